// SPDX-License-Identifier: GPL-3.0-or-later
// Eager attention in blocks of query rows, so that the score matrix of one block stays under a fixed
// size and memory grows linearly with the sequence (a 12.8 MP drawing is 65k patches in the vision
// tower and 16k tokens in the decoder; one [heads, n, n] float32 matrix of it would be 270 GB). Each
// row's softmax still sees all its keys, so blocks change no result beyond summation order.
#pragma once

#include <algorithm>
#include <cstdint>

namespace unirank::model {

/// Bytes of float32 attention scores one block may hold.
inline constexpr std::int64_t kAttentionBlockBytes = std::int64_t(256) << 20;

/// Query rows per block when `matrices` score matrices (batch x heads) of `keys` columns are computed.
inline std::int64_t attentionBlockRows(std::int64_t matrices, std::int64_t keys)
{
    return std::max<std::int64_t>(1, kAttentionBlockBytes / (4 * std::max<std::int64_t>(1, matrices) *
                                                             std::max<std::int64_t>(1, keys)));
}

} // namespace unirank::model
