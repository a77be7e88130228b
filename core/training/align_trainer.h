// SPDX-License-Identifier: GPL-3.0-or-later
// Preference alignment of the reranker (UniRank stage two), by DPO or PL-GRPO (alignment_objective.h):
// a stage of the shared TrainingLoop (training_loop.h: AdamW, schedule, clipping, checkpoints,
// resume, evaluation, publishing, the KL guard), bringing its data and objective.
//
// The policy starts from the instruction-tuned model: the adapter folder given is loaded and trained
// further (or fresh LoRA adapters on the model when none is given); the reference is that starting
// model, frozen: its scores of every candidate are computed once, before the first update, and never
// change (nor do its files). Each round first mines hard negatives with the current policy (pairs
// added to the training queries' human and derived pairs, written as TRL JSONL to
// `<output>/preferences-round-<k>.jsonl`), then trains num_train_epochs (or max_steps) on them.
//
// Held-out queries (instruction tuning's split) are split again (report_split). Evaluation on the
// selection queries (before training and every eval_steps; by default ten times per round): pair
// accuracy over their labelled pairs (human and derived, never mined), KL(policy || reference) of their
// Plackett-Luce ranking policies and trec_eval's ndcg_cut_10. The KL guard watches KL at every
// evaluation and every kl_check_steps (on kl_check_queries of them): above max_kl it goes back to the
// last weights within it and halves the step size, above kl_target_share x max_kl it halves it. The
// evaluation with the best pair accuracy within max_kl is copied to `<output>/best/`; the reporting
// queries are evaluated at the start and for that checkpoint only. When no evaluation after step 0 is
// within max_kl nothing is published and AlignResult::notPublished says why.
//
// Checkpoints and resume: the mined pairs of the current round, the sampling generator and the guard's
// scale are in the trainer state, so a resumed round trains on the same pairs. PL-GRPO samples each
// batch's rankings once and takes num_iterations optimizer steps on them, the ratio against the
// sampling policy clipped to [1 - epsilon, 1 + epsilon] (TRL's GRPO). Resume is exact for DPO, and for
// PL-GRPO at a batch boundary (every num_iterations steps; a batch resumed between its iterations
// samples again). With disable_dropout (the default, as TRL) the policy trains without LoRA dropout, so
// at step 0 its scores are the reference's exactly.
//
// Threading: run() on one thread; callbacks on that thread. Errors: InputError for bad data or config;
// a cancelled run returns normally with `cancelled` set.
#pragma once

#include "core/data/preference_set.h"
#include "core/training/align_config.h"
#include "core/training/sft_trainer.h"

namespace unirank::training {

struct AlignEvaluation {
    double pairAccuracy = 0; ///< held-out labelled pairs ordered as labelled; ties count half
    std::size_t pairs = 0;
    double kl = 0;           ///< mean over held-out queries of KL(PL(policy) || PL(reference))
    double ndcg10 = 0;       ///< of the policy's ranking of the held-out queries
    std::size_t queries = 0;
};

struct AlignResult {
    std::int64_t steps = 0;
    /// PL-GRPO: mean sampled reward; DPO: mean implicit reward margin; each over the first / last tenth
    /// of the logged steps (1 to 50 steps)
    double rewardFirst = 0, rewardLast = 0;
    double lossFirst = 0, lossLast = 0;
    /// Selection queries (they choose the published checkpoint): the start, the published checkpoint
    /// (after; zero when nothing was published) and the last evaluation (final).
    AlignEvaluation before, after, final;
    /// Reporting queries (report_split of the held-out ones; they choose nothing): the start and the
    /// published checkpoint. reportingQueries 0: none.
    AlignEvaluation reportBefore, reportAfter;
    std::size_t reportingQueries = 0;
    std::int64_t bestStep = -1;
    std::filesystem::path best; ///< empty when cancelled or when nothing was published
    std::string notPublished;   ///< why nothing was published (not when cancelled)
    int klRollbacks = 0;        ///< times the KL guard went back to earlier weights
    double lrScale = 1;         ///< the KL guard's learning-rate scale at the end
    std::filesystem::path lastCheckpoint;
    bool cancelled = false, resumed = false, stoppedByKl = false;
    std::size_t trainingPairs = 0; ///< of the last round, mined included
    std::vector<std::filesystem::path> preferenceFiles;
};

class AlignTrainer {
public:
    AlignTrainer(std::shared_ptr<scoring::ScoringModel> model, AlignMethod method, AlignConfig config,
                 std::vector<AlignGroup> train, std::vector<AlignGroup> validation, std::filesystem::path outputDir,
                 std::string baseModel, std::filesystem::path startAdapter, std::int64_t rounds = 1);
    ~AlignTrainer();
    AlignTrainer(const AlignTrainer &) = delete;
    AlignTrainer &operator=(const AlignTrainer &) = delete;

    AlignResult run(bool resume, const TrainCallbacks &callbacks = {});
    AlignEvaluation evaluate(); ///< the selection queries, current weights

private:
    struct State;
    std::unique_ptr<State> m_state;
};

} // namespace unirank::training
