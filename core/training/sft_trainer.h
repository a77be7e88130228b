// SPDX-License-Identifier: GPL-3.0-or-later
// Instruction tuning of the reranker (UniRank stage one). Owns the model it trains (load a private
// ScoringModel; the trainer adds LoRA adapters to it, or trains every text weight with full_finetune).
// AdamW with warmup and a cosine/linear/constant schedule, gradient accumulation, global-norm clipping,
// optional bf16 autocast. Vision-tower embeddings are computed without gradients (and cached) unless
// the vision tower is adapted.
//
// Checkpoints: `<output>/checkpoint-<step>/` holds the adapter (PEFT folder) or the weights, the
// optimizer state (optimizer.safetensors), and trainer_state.json (step, data position, generator state,
// best metric, history); each checkpoint folder appears atomically. run(resume = true) continues from
// the newest one and reproduces an uninterrupted run. A checkpoint is written at each epoch's end (or
// every save_steps), and when cancelled (at the last completed step). Validation (pair accuracy,
// loss, nDCG@10, success@1 on the held-out queries) runs before training and at each epoch's end; the
// best checkpoint by pair accuracy is copied to `<output>/best/`.
//
// Threading: run() on one thread (a TrainingJob's worker); callbacks run on that thread. Grad mode and
// autocast are set inside run(). Errors: InputError for bad data, std::exception from libtorch; a
// cancelled run returns normally with `cancelled` set.
#pragma once

#include "core/data/training_examples.h"
#include "core/scoring/scorer.h"
#include "core/training/sft_config.h"

#include <functional>

namespace unirank::training {

struct TrainProgress {
    std::int64_t step = 0, totalSteps = 0;
    double epoch = 0;
    double loss = 0, learningRate = 0, gradNorm = 0;
    double elapsedSeconds = 0, etaSeconds = 0;
};

struct ValidationResult {
    double pairAccuracy = 0; ///< over (relevant, irrelevant) pairs within a query; ties count half
    double loss = 0;
    double ndcg10 = 0, success1 = 0;
    std::size_t pairs = 0, queries = 0;
};

struct TrainCallbacks {
    std::function<void(const TrainProgress &)> onProgress;
    /// Named values at a step ("loss", "learning_rate", "grad_norm", "val_pair_accuracy", ...).
    std::function<void(std::int64_t step, const std::vector<std::pair<std::string, double>> &)> onMetrics;
    std::function<void(const std::string &)> onLog;
    std::function<bool()> cancelled; ///< checked before every micro-batch
};

struct SftResult {
    std::int64_t steps = 0;
    double firstLoss = 0, lastLoss = 0;
    ValidationResult before, after; ///< after: the final weights
    double bestPairAccuracy = -1;   ///< of the checkpoint copied to `best` (-1 without validation data)
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
    ValidationResult validate();

    /// The newest checkpoint-<step> folder in `outputDir`, or empty.
    static std::filesystem::path latestCheckpoint(const std::filesystem::path &outputDir);

private:
    struct State;
    std::unique_ptr<State> m_state;
};

} // namespace unirank::training
