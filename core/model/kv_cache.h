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
    /// Repeats every row n times (batch of continuations of one prefix). The cache must hold one row.
    KVCache expandBatch(std::int64_t n) const;
};

} // namespace unirank::model
