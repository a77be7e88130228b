// SPDX-License-Identifier: GPL-3.0-or-later
// The instruction-tuning objective at the answer position:
// - cross-entropy of the label token ("yes" for relevant, "no" otherwise), either over the two label
//   tokens only (label_tokens: the logits the scorer turns into its probability) or over the whole
//   vocabulary (full_vocab: as plain causal-LM SFT on the answer token);
// - optionally plus listwise_weight x a softmax term per query group in the batch over the margins
//   m = l_yes - l_no: -log(sum over positives of softmax(m)), for groups with a positive and a negative.
//
// Pure tensor functions (differentiable); thread-safe.
#pragma once

#include <torch/torch.h>

#include <vector>

namespace unirank::training {

struct SftLoss {
    torch::Tensor loss;    ///< scalar, what is minimised
    torch::Tensor margins; ///< [B] l_yes - l_no, detached
    double crossEntropy = 0;
    double listwise = 0;
};

/// `logits` [B, 1, 2] (negative, positive) when `labelTokensOnly`, else [B, 1, V] with the label ids.
SftLoss sftLoss(const torch::Tensor &logits, const torch::Tensor &labels, const std::vector<std::size_t> &groups,
                bool labelTokensOnly, std::int64_t negativeId, std::int64_t positiveId, double listwiseWeight);

} // namespace unirank::training
