// SPDX-License-Identifier: GPL-3.0-or-later
// The causal language-model loss as Hugging Face computes it: position i predicts label i+1;
// labels of -100 are ignored; the mean over the rest, in float32. Logits are computed only at the
// positions that predict a label (a reranker labels one token per sequence, so this is cheap).
//
// Threading: as forward(). Errors: InputError when no label is set or shapes disagree.
#pragma once

#include "core/model/qwen2vl.h"

namespace unirank::model {

constexpr std::int64_t kIgnoreLabel = -100;

struct LossOutput {
    torch::Tensor loss;      ///< scalar float32
    torch::Tensor logits;    ///< [N, V] at the N predicting positions, in batch-major order
    torch::Tensor positions; ///< [N, 2] (row, position) of those logits
};

/// labels [B, S] int64, aligned with input.inputIds.
LossOutput languageModelLoss(Qwen2VL &model, ForwardInput input, const torch::Tensor &labels);

} // namespace unirank::model
