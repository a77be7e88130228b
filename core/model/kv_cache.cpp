// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/model/kv_cache.h"

#include "core/util/error.h"

namespace unirank::model {

KVCache KVCache::expandBatch(std::int64_t n) const
{
    if (empty())
        return *this;
    if (keyMask.size(0) != 1)
        throw InputError("KVCache::expandBatch needs a cache of one row");
    KVCache out;
    for (const auto &k : keys)
        out.keys.push_back(k.expand({n, -1, -1, -1}));
    for (const auto &v : values)
        out.values.push_back(v.expand({n, -1, -1, -1}));
    out.keyMask = keyMask.expand({n, -1});
    out.nextPosition = nextPosition.expand({n}).clone();
    return out;
}

KVCache KVCache::row(std::int64_t i) const
{
    if (empty())
        throw InputError("KVCache::row on an empty cache");
    const auto realRow = keyMask[i].to(torch::kCPU);
    const auto real = realRow.sum().item<std::int64_t>();
    const auto pad = keyMask.size(1) - real;
    if (real == 0 || !realRow.narrow(0, pad, real).all().item<bool>())
        throw InputError("KVCache::row: the row is not left-padded");
    KVCache out;
    for (const auto &k : keys)
        out.keys.push_back(k.narrow(0, i, 1).narrow(2, pad, real));
    for (const auto &v : values)
        out.values.push_back(v.narrow(0, i, 1).narrow(2, pad, real));
    out.keyMask = keyMask.narrow(0, i, 1).narrow(1, pad, real);
    out.nextPosition = nextPosition.narrow(0, i, 1).clone();
    return out;
}

KVCache KVCache::leading(std::int64_t n) const
{
    if (n < 0 || n > length())
        throw InputError("KVCache::leading: " + std::to_string(n) + " of " + std::to_string(length()) + " keys");
    KVCache out;
    for (const auto &k : keys)
        out.keys.push_back(k.narrow(2, 0, n));
    for (const auto &v : values)
        out.values.push_back(v.narrow(2, 0, n));
    out.keyMask = keyMask.narrow(1, 0, n);
    out.nextPosition = nextPosition - (length() - n);
    return out;
}

KVCache KVCache::stack(const std::vector<KVCache> &rows)
{
    if (rows.empty())
        throw InputError("KVCache::stack needs at least one row");
    std::int64_t longest = 0;
    for (const auto &r : rows) {
        if (r.empty() || r.keyMask.size(0) != 1 || r.keys.size() != rows.front().keys.size())
            throw InputError("KVCache::stack needs non-empty single-row caches of one model");
        longest = std::max(longest, r.length());
    }
    const auto padded = [longest](const torch::Tensor &t) {
        const auto pad = longest - t.size(2);
        if (pad == 0)
            return t;
        return torch::cat({torch::zeros({1, t.size(1), pad, t.size(3)}, t.options()), t}, 2);
    };
    KVCache out;
    for (std::size_t layer = 0; layer < rows.front().keys.size(); ++layer) {
        std::vector<torch::Tensor> k, v;
        for (const auto &r : rows) {
            k.push_back(padded(r.keys[layer]));
            v.push_back(padded(r.values[layer]));
        }
        out.keys.push_back(torch::cat(k, 0));
        out.values.push_back(torch::cat(v, 0));
    }
    std::vector<torch::Tensor> masks, next;
    for (const auto &r : rows) {
        const auto pad = longest - r.length();
        const auto m = r.keyMask.to(torch::kBool);
        masks.push_back(pad == 0 ? m : torch::cat({torch::zeros({1, pad}, m.options()), m}, 1));
        next.push_back(r.nextPosition.to(torch::kCPU).view({1}));
    }
    out.keyMask = torch::cat(masks, 0);
    out.nextPosition = torch::cat(next, 0);
    return out;
}

KVCache KVCache::concatenate(const std::vector<KVCache> &parts)
{
    if (parts.empty())
        throw InputError("KVCache::concatenate needs at least one part");
    for (const auto &p : parts)
        if (p.empty() || p.keyMask.size(0) != 1 || p.keys.size() != parts.front().keys.size())
            throw InputError("KVCache::concatenate needs non-empty single-row caches of one model");
    if (parts.size() == 1)
        return parts.front();
    KVCache out;
    for (std::size_t layer = 0; layer < parts.front().keys.size(); ++layer) {
        std::vector<torch::Tensor> k, v;
        for (const auto &p : parts) {
            k.push_back(p.keys[layer]);
            v.push_back(p.values[layer]);
        }
        out.keys.push_back(torch::cat(k, 2));
        out.values.push_back(torch::cat(v, 2));
    }
    std::vector<torch::Tensor> masks;
    for (const auto &p : parts)
        masks.push_back(p.keyMask.to(torch::kBool));
    out.keyMask = torch::cat(masks, 1);
    out.nextPosition = parts.back().nextPosition;
    return out;
}

torch::Tensor KVCache::pack() const
{
    if (empty() || keyMask.size(0) != 1)
        throw InputError("KVCache::pack needs a single-row cache");
    std::vector<torch::Tensor> parts;
    for (const auto &k : keys)
        parts.push_back(k.squeeze(0));
    for (const auto &v : values)
        parts.push_back(v.squeeze(0));
    return torch::stack(parts, 0);
}

KVCache KVCache::unpack(const torch::Tensor &packed, const torch::Tensor &nextPosition)
{
    if (packed.dim() != 4 || packed.size(0) % 2 != 0)
        throw InputError("a packed KV cache must have shape [2 x layers, kv_heads, K, head_dim]");
    const auto layers = packed.size(0) / 2;
    KVCache out;
    for (std::int64_t l = 0; l < layers; ++l) {
        out.keys.push_back(packed[l].unsqueeze(0));
        out.values.push_back(packed[layers + l].unsqueeze(0));
    }
    out.keyMask = torch::ones({1, packed.size(2)}, torch::TensorOptions().dtype(torch::kBool).device(packed.device()));
    out.nextPosition = nextPosition.to(torch::kCPU, torch::kLong).view({1});
    return out;
}

} // namespace unirank::model
