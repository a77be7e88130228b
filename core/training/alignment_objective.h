// SPDX-License-Identifier: GPL-3.0-or-later
// The two preference-alignment objectives over reranker scores s = l_yes - l_no (the logit margin the
// scorer ranks by), against a frozen reference model's scores s_ref.
//
// DPO. Read as a ranking policy, the scores give pi(c | q) = softmax over the query's candidates, so the
// normaliser cancels in a pair of the same query and DPO's implicit reward of a candidate is
// beta (s - s_ref). With z = beta ((s_c - s_c_ref) - (s_r - s_r_ref)) for chosen c over rejected r:
//   loss = -(1 - eps) log sigmoid(z) - eps log sigmoid(-z)         (eps: label_smoothing, TRL's)
// dloss/ds_c = -beta sigmoid(-z) (eps = 0), dloss/ds_r = +beta sigmoid(-z).
//
// PL-GRPO. For each query, G rankings are sampled from the Plackett-Luce policy of the old scores;
// each gets a reward (rankingReward); advantages are group-relative, A_i = (R_i - mean) / (std + 1e-4)
// (std unbiased, as TRL's; with scale_rewards off, R_i - mean). Every placement of a ranking is a
// "token": with rho = exp(log pi_t - log pi_old_t) and k3 = exp(ref_t - log pi_t) - (ref_t - log pi_t) - 1,
//   loss = -mean_{i,t} [ min(rho A_i, clip(rho, 1 - epsilon, 1 + epsilon) A_i) - beta k3 ].
//
// Pure functions; thread-safe.
#pragma once

#include <torch/torch.h>

#include <string>
#include <utility>
#include <vector>

namespace unirank::training {

struct DpoLoss {
    torch::Tensor loss;           ///< scalar mean over pairs
    torch::Tensor chosenRewards;  ///< [P] beta (s_c - s_c_ref), detached
    torch::Tensor rejectedRewards;
};

/// chosen/rejected: [P] policy scores (differentiable); *Ref: [P] reference scores.
DpoLoss dpoLoss(const torch::Tensor &chosen, const torch::Tensor &rejected, const torch::Tensor &chosenRef,
                const torch::Tensor &rejectedRef, double beta, double labelSmoothing = 0.0);

/// A query's reward inputs, by index into its candidate list.
struct RankingTargets {
    std::vector<std::pair<int, int>> preferences; ///< (better, worse)
    std::vector<int> grades;                      ///< per candidate; -1 unjudged (gain 0)
};

struct RankingReward {
    double pairAgreement = 0; ///< share of the preferences the ranking orders the same way
    double ndcg = 0;          ///< nDCG@k of the ranking against the grades (trec_eval's gain and discount)
    double reward = 0;        ///< pairWeight x pairAgreement + ndcgWeight x ndcg (over the parts that exist)
};

/// `ranking`: candidate indices, best first. A part without data (no preferences, no positive grade)
/// is left out and the weights of the others are renormalised.
RankingReward rankingReward(const std::vector<int> &ranking, const RankingTargets &targets, double pairWeight,
                            double ndcgWeight, int ndcgDepth);

/// Group-relative advantages of rewards [G].
torch::Tensor groupAdvantages(const torch::Tensor &rewards, bool scaleRewards);

struct GrpoLoss {
    torch::Tensor loss; ///< scalar
    double kl = 0;      ///< mean k3 per placement
    double clippedShare = 0;
};

/// stepLogProbs, oldStepLogProbs, refStepLogProbs: [G, k] per-placement log-probabilities of the same
/// rankings under the current, sampling and reference policies; advantages [G].
GrpoLoss grpoLoss(const torch::Tensor &stepLogProbs, const torch::Tensor &oldStepLogProbs,
                  const torch::Tensor &refStepLogProbs, const torch::Tensor &advantages, double epsilon, double beta);

/// KL(PL(s) || PL(s_ref)) over whole rankings, estimated from `samples` draws of PL(s) with the
/// non-negative unbiased k3 estimator at the ranking level.
double plKl(const torch::Tensor &scores, const torch::Tensor &refScores, std::int64_t samples, at::Generator generator);

} // namespace unirank::training
