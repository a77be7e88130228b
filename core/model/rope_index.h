// SPDX-License-Identifier: GPL-3.0-or-later
// M-RoPE position ids for any mix of text and images (Hugging Face's get_rope_index): text tokens
// count up in all three rows; an image's merged tokens get (t, row, column) offsets from the position
// after the preceding text; text after an image continues from the largest position so far + 1.
// Padded slots (attention_mask 0) hold 1 in all rows. Images are taken from image_grid_thw in order
// across the whole batch.
//
// Errors: InputError when the <|image_pad|> runs do not match the grids. Pure function, thread-safe.
#pragma once

#include "core/model/config.h"

#include <torch/torch.h>

namespace unirank::model {

struct RopeIndex {
    torch::Tensor positionIds;  ///< [3, B, L] int64
    torch::Tensor ropeDeltas;   ///< [B, 1] int64: max position + 1 - L
    torch::Tensor nextPosition; ///< [B] int64: max position + 1 (where a continuation starts)
};

/// inputIds [B, L]; imageGridThw [n, 3] or undefined; attentionMask [B, L] or undefined (all real);
/// startPositions [B] or undefined (0): the value the first text token takes (a KV-cache continuation).
RopeIndex computeRopeIndex(const torch::Tensor &inputIds, const torch::Tensor &imageGridThw,
                           const torch::Tensor &attentionMask, const SpecialTokens &tokens,
                           std::int64_t spatialMergeSize, const torch::Tensor &startPositions = {});

} // namespace unirank::model
