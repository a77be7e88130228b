// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/model/kv_cache.h"

#include "core/util/error.h"

namespace unirank::model {

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
