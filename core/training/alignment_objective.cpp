// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/training/alignment_objective.h"

#include "core/training/plackett_luce.h"
#include "core/util/error.h"

#include <algorithm>
#include <cmath>

namespace unirank::training {

DpoLoss dpoLoss(const torch::Tensor &chosen, const torch::Tensor &rejected, const torch::Tensor &chosenRef,
                const torch::Tensor &rejectedRef, double beta, double labelSmoothing)
{
    if (chosen.sizes() != rejected.sizes() || chosen.sizes() != chosenRef.sizes() || chosen.sizes() != rejectedRef.sizes())
        throw InputError("DPO: chosen, rejected and reference scores must have the same shape");
    const auto c = chosen.to(torch::kFloat32), r = rejected.to(torch::kFloat32);
    const auto cRef = chosenRef.to(c.device(), torch::kFloat32), rRef = rejectedRef.to(c.device(), torch::kFloat32);
    const auto z = beta * ((c - cRef) - (r - rRef));
    auto loss = -(1.0 - labelSmoothing) * torch::log_sigmoid(z) - labelSmoothing * torch::log_sigmoid(-z);
    return {loss.mean(), (beta * (c - cRef)).detach(), (beta * (r - rRef)).detach()};
}

RankingReward rankingReward(const std::vector<int> &ranking, const RankingTargets &targets, double pairWeight,
                            double ndcgWeight, int ndcgDepth)
{
    RankingReward r;
    std::vector<int> position(targets.grades.size(), static_cast<int>(ranking.size()));
    for (std::size_t i = 0; i < ranking.size(); ++i)
        position.at(static_cast<std::size_t>(ranking[i])) = static_cast<int>(i);
    double weights = 0;
    if (!targets.preferences.empty()) {
        double agree = 0;
        for (const auto &[better, worse] : targets.preferences)
            agree += position.at(static_cast<std::size_t>(better)) < position.at(static_cast<std::size_t>(worse)) ? 1 : 0;
        r.pairAgreement = agree / double(targets.preferences.size());
        r.reward += pairWeight * r.pairAgreement;
        weights += pairWeight;
    }
    std::vector<int> ideal;
    for (const auto g : targets.grades)
        if (g > 0)
            ideal.push_back(g);
    if (!ideal.empty()) {
        std::sort(ideal.rbegin(), ideal.rend());
        double dcg = 0, idcg = 0;
        for (std::size_t i = 0; i < ranking.size() && i < static_cast<std::size_t>(ndcgDepth); ++i)
            dcg += std::max(0, targets.grades.at(static_cast<std::size_t>(ranking[i]))) / std::log2(double(i) + 2);
        for (std::size_t i = 0; i < ideal.size() && i < static_cast<std::size_t>(ndcgDepth); ++i)
            idcg += ideal[i] / std::log2(double(i) + 2);
        r.ndcg = dcg / idcg;
        r.reward += ndcgWeight * r.ndcg;
        weights += ndcgWeight;
    }
    if (weights > 0)
        r.reward /= weights;
    return r;
}

torch::Tensor groupAdvantages(const torch::Tensor &rewards, bool scaleRewards)
{
    const auto centred = rewards - rewards.mean();
    if (!scaleRewards || rewards.numel() < 2)
        return centred;
    return centred / (rewards.std() + 1e-4);
}

GrpoLoss grpoLoss(const torch::Tensor &stepLogProbs, const torch::Tensor &oldStepLogProbs, const torch::Tensor &refStepLogProbs,
                  const torch::Tensor &advantages, double epsilon, double beta)
{
    const auto a = advantages.to(stepLogProbs.device(), torch::kFloat32).unsqueeze(1);
    const auto ratio = torch::exp(stepLogProbs - oldStepLogProbs.detach());
    const auto unclipped = ratio * a;
    const auto clipped = ratio.clamp(1.0 - epsilon, 1.0 + epsilon) * a;
    const auto surrogate = torch::min(unclipped, clipped);
    const auto delta = refStepLogProbs.detach() - stepLogProbs;
    const auto k3 = torch::exp(delta) - delta - 1.0;
    GrpoLoss out;
    out.loss = -(surrogate - beta * k3).mean();
    out.kl = k3.detach().mean().item<double>();
    out.clippedShare = (clipped < unclipped).to(torch::kFloat32).mean().item<double>();
    return out;
}

double plKl(const torch::Tensor &scores, const torch::Tensor &refScores, std::int64_t samples, at::Generator generator)
{
    torch::NoGradGuard noGrad;
    const auto rankings = plSample(scores, samples, 1.0, generator);
    const auto logRatio = plLogProb(refScores, rankings) - plLogProb(scores, rankings); // log pi_ref / pi
    return (torch::exp(logRatio) - logRatio - 1.0).mean().item<double>();
}

} // namespace unirank::training
