// SPDX-License-Identifier: GPL-3.0-or-later
// Every hyperparameter of a preference-alignment round: the shared TrainingArguments
// (training_arguments.h) plus these, named as TRL's DPOConfig and GRPOConfig name them where a name
// exists (UniRank's own marked):
//
//   key                              default  meaning
//   beta                             0.1      DPO: inverse temperature of the implicit reward;
//                                             PL-GRPO: weight of the KL penalty to the reference
//   label_smoothing                  0.0      DPO: assumed share of flipped preferences
//   num_generations                  8        PL-GRPO: rankings sampled per query
//   epsilon                          0.2      PL-GRPO: clip range of the importance ratio
//   num_iterations                   1        PL-GRPO: optimizer steps on each batch of samples
//   disable_dropout                  true     the policy trains without LoRA dropout, as the reference
//                                             is scored (TRL's default)
//   temperature                      1.0      PL-GRPO: sampling temperature of the ranking policy
//   scale_rewards                    true     PL-GRPO: divide advantages by the group's std
//   use_human (UniRank)              true     annotators' pairwise labels
//   use_derived (UniRank)            true     pairs from graded labels
//   derived_pairs_per_query (UniRank) 16      0: all
//   mined_pairs_per_query (UniRank)  8        hard negatives mined each round; 0: none
//   unjudged_rule (UniRank)          skip     skip | negative: an unjudged candidate above a relevant one
//   reward_pair_weight (UniRank)     1.0      PL-GRPO reward: agreement with the query's pairs
//   reward_ndcg_weight (UniRank)     1.0      PL-GRPO reward: nDCG against the graded labels
//   reward_ndcg_depth (UniRank)      10
//   max_kl (UniRank)                 1.0      bound on KL(policy || reference) over the selection
//                                             queries: only a checkpoint within it is published, and
//                                             the KL guard (training_loop.h) keeps the policy inside it
//   kl_target_share (UniRank)        0.5      the guard halves the learning rate when KL passes this
//                                             share of max_kl
//   kl_check_steps (UniRank)         4        the guard measures KL every N steps (and at every
//                                             evaluation); 0: only at evaluations
//   kl_check_queries (UniRank)       8        selection queries those checks use; 0: all
//   kl_samples (UniRank)             256      rankings per query for each KL estimate
//
// eval_steps 0 (the default) evaluates ten times per round here (every ceil(steps per round / 10)).
// Defaults that differ from TrainingArguments' depend on the method (AlignConfig::forMethod), measured
// on the clipart-hybrid dev split with LoRA on the tiny model (docs/training.md, "Preference alignment"):
//   dpo       learning_rate 2e-4, num_train_epochs 1, warmup_ratio 0
//   pl-grpo   learning_rate 2e-3, num_train_epochs 2, warmup_ratio 0, per_device_train_batch_size 2
// DPO's KL to the reference grows fast with the learning rate (5e-4 crossed max_kl tenfold within 200
// steps there); PL-GRPO's KL term keeps it in check at ten times the rate, with the KL guard's help at
// the start of a round (training_loop.h).
// Errors: InputError naming the file and key.
#pragma once

#include "core/training/training_arguments.h"

namespace unirank::training {

enum class AlignMethod { Dpo, PlGrpo };
const char *toString(AlignMethod method);
/// "dpo" or "pl-grpo"; throws InputError otherwise.
AlignMethod parseAlignMethod(const std::string &name);
/// The method used when none is named: PL-GRPO (docs/training.md, "Preference alignment", says why).
inline constexpr AlignMethod kDefaultAlignMethod = AlignMethod::PlGrpo;

struct AlignConfig : TrainingArguments {
    AlignConfig() ///< DPO's defaults
    {
        learning_rate = 2e-4;
        num_train_epochs = 1;
        warmup_ratio = 0.0;
    }
    double beta = 0.1;
    double label_smoothing = 0.0;
    std::int64_t num_generations = 8;
    double epsilon = 0.2;
    std::int64_t num_iterations = 1;
    bool disable_dropout = true;
    double temperature = 1.0;
    bool scale_rewards = true;
    bool use_human = true;
    bool use_derived = true;
    std::int64_t derived_pairs_per_query = 16;
    std::int64_t mined_pairs_per_query = 8;
    std::string unjudged_rule = "skip";
    double reward_pair_weight = 1.0;
    double reward_ndcg_weight = 1.0;
    std::int64_t reward_ndcg_depth = 10;
    double max_kl = 1.0;
    std::int64_t kl_samples = 256;
    double kl_target_share = 0.5;
    std::int64_t kl_check_steps = 4;
    std::int64_t kl_check_queries = 8;

    /// The defaults for `method` (see above).
    static AlignConfig forMethod(AlignMethod method);
    /// forMethod(method) overridden by the keys present; `source` names the file in errors.
    static AlignConfig fromJson(const nlohmann::json &json, const std::string &source, AlignMethod method = kDefaultAlignMethod);
    nlohmann::json toJson() const;
    void validate(const std::string &source) const; ///< throws InputError
};

} // namespace unirank::training
