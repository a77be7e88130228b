// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/training/plackett_luce.h"

#include "core/util/error.h"

#include <limits>

namespace unirank::training {

torch::Tensor plStepLogProbs(const torch::Tensor &scores, const torch::Tensor &rankings, double temperature)
{
    if (scores.dim() != 1 || rankings.dim() != 2 || rankings.size(1) > scores.size(0))
        throw InputError("Plackett-Luce: scores must be [n] and rankings [G, k] with k <= n");
    if (temperature <= 0)
        throw InputError("Plackett-Luce: temperature must be positive");
    const auto s = scores.to(torch::kFloat32) / temperature;
    const auto g = rankings.size(0), k = rankings.size(1), n = s.size(0);
    const auto placed = s.index({rankings}); // [G, k]
    // Denominator at position t: the placed items t..k-1 (a reversed cumulative logsumexp) plus every
    // item the prefix never places.
    auto suffix = placed.flip({1}).logcumsumexp(1).flip({1});
    if (k < n) {
        auto unplaced = torch::ones({g, n}, torch::TensorOptions().dtype(torch::kBool).device(s.device()));
        unplaced.scatter_(1, rankings, false);
        const auto rest = s.unsqueeze(0).expand({g, n}).masked_fill(unplaced.logical_not(), -std::numeric_limits<float>::infinity())
                              .logsumexp(1, true); // [G, 1]
        suffix = torch::logaddexp(suffix, rest.expand({g, k}));
    }
    return placed - suffix;
}

torch::Tensor plLogProb(const torch::Tensor &scores, const torch::Tensor &rankings, double temperature)
{
    return plStepLogProbs(scores, rankings, temperature).sum(1);
}

torch::Tensor plSample(const torch::Tensor &scores, std::int64_t count, double temperature, std::optional<at::Generator> generator)
{
    if (scores.dim() != 1 || count <= 0 || temperature <= 0)
        throw InputError("Plackett-Luce sampling: scores must be [n], count and temperature positive");
    torch::NoGradGuard noGrad;
    const auto s = scores.detach().to(torch::kFloat32) / temperature;
    const auto n = s.size(0);
    // Gumbel(0, 1) = -log(-log U), U in (0, 1): keep U away from 0 and 1.
    c10::optional<at::Generator> gen;
    if (generator)
        gen = *generator;
    const auto u = at::rand({count, n}, gen, s.options()).clamp(1e-12, 1.0 - 1e-7);
    const auto perturbed = s.unsqueeze(0) - torch::log(-torch::log(u));
    return std::get<1>(perturbed.sort(1, /*descending=*/true));
}

} // namespace unirank::training
