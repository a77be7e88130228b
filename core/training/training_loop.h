// SPDX-License-Identifier: GPL-3.0-or-later
// The optimisation loop that instruction tuning and alignment share. A stage (TrainingStage) brings
// its data and objective: how the policy is set up, the forward and backward of one step, and the
// held-out evaluation. The loop owns the rest: AdamW over the policy's trainable tensors, the warmup
// + decay schedule, global-norm clipping, logging and progress, checkpoints (checkpoints.h) and
// resume, evaluation every eval_steps (or at each epoch's end), and choosing and publishing the best
// checkpoint: the evaluated checkpoint with the highest selection metric, among those within max_kl
// when the stage has a reference (without held-out queries, the last one).
//
// KL guard (a step-size rule; on when KlGuard::maxKl > 0): every checkSteps steps, and at every
// evaluation, the stage measures KL(policy || reference). Above maxKl the trainable weights and AdamW's
// state go back to the last measurement within the bound and the learning rate's scale is halved;
// above target, and higher than the previous measurement of its kind, the scale is halved without going
// back (down to 1/128 this way; a KL holding still above it is left alone). After maxHalvings halvings
// above maxKl the run
// stops. The scale is saved with the checkpoints, so a resumed run keeps it.
//
// Threading: run() on the training thread (a TrainingJob's worker); callbacks run on it. Errors: the
// stage's and libtorch's exceptions pass through; a cancelled run returns normally.
#pragma once

#include "core/training/training_arguments.h"

#include <filesystem>
#include <functional>
#include <optional>

namespace unirank::training {

class TrainablePolicy;

struct TrainProgress {
    std::int64_t step = 0, totalSteps = 0;
    double epoch = 0;
    double loss = 0, learningRate = 0, gradNorm = 0;
    double elapsedSeconds = 0, etaSeconds = 0;
};

using NamedValues = std::vector<std::pair<std::string, double>>;

struct TrainCallbacks {
    std::function<void(const TrainProgress &)> onProgress;
    /// Named values at a step ("loss", "learning_rate", "grad_norm", "val_pair_accuracy", ...).
    std::function<void(std::int64_t step, const NamedValues &)> onMetrics;
    std::function<void(const std::string &)> onLog;
    std::function<bool()> cancelled; ///< checked before every micro-batch
};

struct StepOutput {
    double loss = 0;
    NamedValues named; ///< logged with the loss ("reward", "kl", ...)
};

struct HeldOutEvaluation {
    NamedValues metrics;      ///< logged as given ("val_pair_accuracy", "val_kl", ...)
    double selection = 0;     ///< higher is better; chooses the published checkpoint
    std::optional<double> kl; ///< to the reference, for a stage that has one
};

/// A training stage: its data and objective. Called by TrainingLoop::run on the training thread.
class TrainingStage {
public:
    virtual ~TrainingStage() = default;
    /// Sets the policy up: from `checkpoint` when resuming, otherwise from the stage's start.
    virtual void prepare(const std::filesystem::path &checkpoint) = 0;
    virtual std::int64_t totalSteps() const = 0;
    virtual std::int64_t stepsPerEpoch() const = 0;
    /// Whether `step` (completed steps) ends an epoch: evaluations and saves happen there by default.
    virtual bool endsEpoch(std::int64_t step) const { return step % stepsPerEpoch() == 0; }
    /// Forward and backward of optimizer step `step`'s micro-batches (0-based), gradients summed into the
    /// policy's tensors; nullopt when `cancelled` returned true (the loop discards the gradients).
    virtual std::optional<StepOutput> accumulate(std::int64_t step, const std::function<bool()> &cancelled) = 0;
    /// Whether evaluate() has queries to evaluate.
    virtual bool evaluates() const = 0;
    /// The selection queries' evaluation of the current weights.
    virtual HeldOutEvaluation evaluate() = 0;
    /// Called with the start's weights (after the step-0 evaluation of a fresh run) and with each new
    /// best checkpoint's: the stage measures its reporting queries, which choose nothing.
    virtual void reportAt(std::int64_t /*step*/) {}
    /// KL to the reference between evaluations (the KL guard); may use fewer queries than evaluate().
    virtual double checkKl() { return 0; }
    /// Extra trainer_state.json keys, and reading them back on resume.
    virtual void saveState(nlohmann::json &) const {}
    virtual void restoreState(const nlohmann::json &) {}
    /// The KL guard put earlier weights back: state derived from the discarded ones must go.
    virtual void afterRollback() {}
};

struct KlGuard {
    double maxKl = 0;          ///< 0: no guard, no bound
    double target = 0;         ///< halve the step size above this
    std::int64_t checkSteps = 0; ///< 0: only at evaluations
    int maxHalvings = 6;
};

struct LoopResult {
    std::int64_t steps = 0;
    double firstLoss = 0, lastLoss = 0;
    std::optional<HeldOutEvaluation> before;        ///< at step 0 (not on resume: from the history then)
    std::optional<HeldOutEvaluation> last, bestEvaluation; ///< the last evaluation, the published one's
    std::int64_t bestStep = -1;           ///< the published checkpoint's step; -1 when none
    std::filesystem::path published;      ///< <output>/best; empty when nothing was published
    std::filesystem::path lastCheckpoint;
    std::string notPublished;             ///< why nothing was published (empty when it was, or cancelled)
    bool cancelled = false, resumed = false, stoppedByKl = false;
    int klRollbacks = 0;
    double lrScale = 1; ///< the KL guard's at the end
    nlohmann::json history;
};

class TrainingLoop {
public:
    TrainingLoop(TrainablePolicy &policy, const TrainingArguments &args, std::filesystem::path output, KlGuard guard = {});
    /// The step's learning rate, before the guard's scale.
    static double scheduledRate(const TrainingArguments &args, std::int64_t step, std::int64_t total);
    LoopResult run(TrainingStage &stage, bool resume, const TrainCallbacks &callbacks = {});

private:
    TrainablePolicy &m_policy;
    const TrainingArguments &m_args;
    std::filesystem::path m_out;
    KlGuard m_guard;
};

} // namespace unirank::training
