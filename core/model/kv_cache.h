// SPDX-License-Identifier: GPL-3.0-or-later
// Per-request decoder state: keys and values of every layer (after rotary, before GQA expansion), the
// key padding mask, and where M-RoPE positions continue. A cache computed for a shared prompt prefix can
// be copied to any number of continuations: forwards never modify cached tensors in place, they extend
// copies (tensor storage is shared, so a copy is cheap).
//
// Threading: a KVCache belongs to one request at a time; copies are independent.
#pragma once

#include <torch/torch.h>

#include <vector>

namespace unirank::model {

struct KVCache {
    std::vector<torch::Tensor> keys;   ///< per layer [B, kv_heads, K, head_dim]
    std::vector<torch::Tensor> values; ///< per layer [B, kv_heads, K, head_dim]
    torch::Tensor keyMask;             ///< [B, K] bool: true = real token
    torch::Tensor nextPosition;        ///< [B] int64 (CPU): the M-RoPE value the next text token takes

    bool empty() const { return !keyMask.defined() || keyMask.size(1) == 0; }
    std::int64_t length() const { return empty() ? 0 : keyMask.size(1); }
    /// The first `n` keys of every row: what those tokens alone give (attention is causal). The tokens
    /// dropped must be text (positions one apart), as in a template's head; views into this cache.
    KVCache leading(std::int64_t n) const;
    /// Single-row caches one after another along the keys (copies; one part: shared tensors), e.g. the
    /// prefixes a packed forward's segments attend to. `nextPosition` is the last part's.
    static KVCache concatenate(const std::vector<KVCache> &parts);

    /// A single-row cache without padding as one tensor [2 x layers, kv_heads, K, head_dim] (keys, then
    /// values), e.g. to store it; unpack() restores it (every key real) with `nextPosition` [1].
    torch::Tensor pack() const;
    static KVCache unpack(const torch::Tensor &packed, const torch::Tensor &nextPosition);
};

} // namespace unirank::model
