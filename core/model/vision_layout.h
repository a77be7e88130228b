// SPDX-License-Identifier: GPL-3.0-or-later
// Where the patches of each image go in the two newer vision towers; pure index arithmetic on the
// grids, kept apart from the modules so it can be tested on its own.
//
// Qwen2.5-VL window attention: the merged-patch grid of each frame is cut into windows of
// windowSize / (merge * patch) merged patches a side (4 for 112 px at patch 14), left to right and top
// to bottom, edge windows smaller; the tower reorders its rows window by window (merge groups kept
// together), attends within windows in all blocks but the full-attention ones, and restores the order
// after the merger (transformers' get_window_index).
//
// Qwen3-VL learned positions: a side x side grid of embeddings sampled bilinearly at each image's
// patch rows and columns (linspace over the grid), in the processor's merge-window row order
// (transformers' fast_pos_embed_interpolate).
//
// Threading: pure functions. Errors: none beyond those of the grids, which the tower checks first.
#pragma once

#include "core/model/config.h"

#include <torch/torch.h>

#include <vector>

namespace unirank::model {

struct WindowLayout {
    torch::Tensor order;                ///< [P / merge^2] int64: merge groups in window order
    std::vector<std::int64_t> segments; ///< patches per window, in that order (empty windows left out)
};

/// gridThw [n, 3] int64 on the CPU.
WindowLayout windowLayout(const torch::Tensor &gridThw, const VisionConfig &config);

struct PositionSamples {
    torch::Tensor index;  ///< [4, P] int64 rows of the position grid (floor/floor, floor/ceil, ceil/floor, ceil/ceil)
    torch::Tensor weight; ///< [4, P] float32 bilinear weights
};

/// The learned-position samples of every patch (frames repeat their image's), in processor order.
PositionSamples positionSamples(const torch::Tensor &gridThw, const VisionConfig &config);

} // namespace unirank::model
