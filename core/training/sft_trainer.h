// SPDX-License-Identifier: GPL-3.0-or-later
// Instruction tuning of the reranker (UniRank stage one): a stage of the shared TrainingLoop
// (training_loop.h: AdamW, schedule, clipping, checkpoints, resume, publishing), bringing its data
// (balanced yes/no examples by query) and objective (sftLoss). Owns the model it trains (load a
// private ScoringModel; LoRA adapters are added to it, or every text weight trains with full_finetune).
// Vision-tower embeddings are computed without gradients (and cached) unless the vision tower is adapted.
//
// Checkpoints: `<output>/checkpoint-<step>/` (adapter or weights, optimizer state, trainer_state.json);
// run(resume = true) continues from the newest one and reproduces an uninterrupted run. The held-out
// queries (validation_split) are split again (report_split): validation (pair accuracy, loss, nDCG@10,
// success@1) of the selection queries runs before training and at each epoch's end (or every
// eval_steps) and chooses the checkpoint copied to `<output>/best/`; the reporting queries are measured
// only at the start and for the chosen checkpoint, so their figures are not biased by the choice.
//
// Threading: run() on one thread (a TrainingJob's worker); callbacks run on that thread. Grad mode and
// autocast are set inside run(). Errors: InputError for bad data, std::exception from libtorch; a
// cancelled run returns normally with `cancelled` set.
#pragma once

#include "core/data/training_examples.h"
#include "core/scoring/scorer.h"
#include "core/training/sft_config.h"
#include "core/training/training_loop.h"

#include <functional>

namespace unirank::training {

struct ValidationResult {
    double pairAccuracy = 0; ///< over (relevant, irrelevant) pairs within a query; ties count half
    double loss = 0;
    double ndcg10 = 0, success1 = 0;
    std::size_t pairs = 0, queries = 0;
};

struct SftResult {
    std::int64_t steps = 0;
    double firstLoss = 0, lastLoss = 0;
    ValidationResult before, after; ///< selection queries: the start, the final weights
    double bestPairAccuracy = -1;   ///< selection queries: the checkpoint copied to `best` (-1 without validation data)
    /// Reporting queries (report_split of the held-out ones; they chose nothing): the start and the
    /// published checkpoint. Zero pairs when there are none.
    ValidationResult reportBefore, reportAfter;
    std::size_t reportingQueries = 0;
    std::int64_t bestStep = -1;
    std::filesystem::path best;           ///< <output>/best: adapter folder (or full model)
    std::filesystem::path lastCheckpoint;
    bool cancelled = false;
    bool resumed = false;
    std::size_t skippedItems = 0; ///< unreadable images, empty candidates
};

class SftTrainer {
public:
    SftTrainer(std::shared_ptr<scoring::ScoringModel> model, SftConfig config, std::vector<TrainGroup> train,
               std::vector<TrainGroup> validation, std::filesystem::path outputDir, std::string baseModel);
    ~SftTrainer();
    SftTrainer(const SftTrainer &) = delete;
    SftTrainer &operator=(const SftTrainer &) = delete;

    SftResult run(bool resume, const TrainCallbacks &callbacks = {});
    ValidationResult validate(); ///< the selection queries, current weights

    /// The newest checkpoint-<step> folder in `outputDir`, or empty.
    static std::filesystem::path latestCheckpoint(const std::filesystem::path &outputDir);

private:
    struct State;
    std::unique_ptr<State> m_state;
};

} // namespace unirank::training
