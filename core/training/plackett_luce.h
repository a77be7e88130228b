// SPDX-License-Identifier: GPL-3.0-or-later
// The Plackett-Luce ranking policy a reranker's scores define: the first item is drawn with
// probability softmax(s / T), the next from the rest, and so on. So
//   log P(r | s) = sum_t [ s[r_t] - logsumexp(s over the items not yet placed) ]   (with s / T).
// A ranking may be a top-k prefix (k <= n): the unplaced items stay in every denominator.
// Sampling uses the Gumbel trick: sorting s / T + Gumbel noise is an exact PL draw.
//
// Pure tensor functions, differentiable in the scores; thread-safe (sampling draws from the generator
// passed in, or the default one of the scores' device).
#pragma once

#include <torch/torch.h>

#include <optional>

namespace unirank::training {

/// Per-position log-probabilities [G, k] of rankings [G, k] (int64 indices into scores, distinct per
/// row) under PL(scores / temperature); scores [n].
torch::Tensor plStepLogProbs(const torch::Tensor &scores, const torch::Tensor &rankings, double temperature = 1.0);

/// log P of each ranking: [G] (the row sums of plStepLogProbs).
torch::Tensor plLogProb(const torch::Tensor &scores, const torch::Tensor &rankings, double temperature = 1.0);

/// `count` rankings of all n items drawn from PL(scores / temperature): [count, n] int64.
torch::Tensor plSample(const torch::Tensor &scores, std::int64_t count, double temperature = 1.0,
                       std::optional<at::Generator> generator = std::nullopt);

} // namespace unirank::training
