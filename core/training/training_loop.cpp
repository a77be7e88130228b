// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/training/training_loop.h"

#include "core/model/autocast.h"
#include "core/training/checkpoints.h"
#include "core/training/lr_schedule.h"
#include "core/training/optimizer_state.h"
#include "core/training/trainable_policy.h"

#include <chrono>
#include <cmath>
#include <limits>

namespace fs = std::filesystem;

namespace unirank::training {
namespace {

nlohmann::json numberOrNull(double v) { return std::isnan(v) ? nlohmann::json() : nlohmann::json(v); }

double numberOr(const nlohmann::json &state, const char *key, double fallback)
{
    return state.contains(key) && state[key].is_number() ? state[key].get<double>() : fallback;
}

std::string format(double v)
{
    char text[32];
    std::snprintf(text, sizeof text, "%.4g", v);
    return text;
}

/// Trainable weights and AdamW's state at a point the KL guard can return to.
struct Snapshot {
    std::vector<torch::Tensor> params;
    OptimizerSnapshot optimizer;
    std::int64_t step = 0;

    void take(std::vector<torch::Tensor> &from, torch::optim::Optimizer &opt, std::int64_t at)
    {
        torch::NoGradGuard noGrad;
        params.clear();
        for (const auto &p : from)
            params.push_back(p.detach().clone());
        optimizer = snapshotOptimizer(opt);
        step = at;
    }
    void restore(std::vector<torch::Tensor> &to, torch::optim::Optimizer &opt) const
    {
        torch::NoGradGuard noGrad;
        for (std::size_t i = 0; i < to.size(); ++i)
            to[i].copy_(params[i]);
        restoreOptimizerSnapshot(opt, optimizer);
    }
};

} // namespace

TrainingLoop::TrainingLoop(TrainablePolicy &policy, const TrainingArguments &args, fs::path output, KlGuard guard)
    : m_policy(policy), m_args(args), m_out(std::move(output)), m_guard(guard)
{
}

double TrainingLoop::scheduledRate(const TrainingArguments &args, std::int64_t step, std::int64_t total)
{
    return args.learning_rate *
           scheduleFactor(args.lr_scheduler_type, step, total, static_cast<std::int64_t>(std::ceil(args.warmup_ratio * double(total))));
}

LoopResult TrainingLoop::run(TrainingStage &stage, bool resume, const TrainCallbacks &cb)
{
    const auto &a = m_args;
    LoopResult result;
    const auto log = [&](const std::string &line) {
        if (cb.onLog)
            cb.onLog(line);
    };
    const auto from = resume ? latestCheckpoint(m_out) : fs::path();
    stage.prepare(from);
    auto &params = m_policy.parameters();
    torch::optim::AdamW optimizer(params, torch::optim::AdamWOptions(a.learning_rate)
                                              .betas(std::make_tuple(a.adam_beta1, a.adam_beta2))
                                              .eps(a.adam_epsilon)
                                              .weight_decay(a.weight_decay));
    std::int64_t step = 0, bestStep = -1;
    double bestMetric = -std::numeric_limits<double>::infinity();
    double firstLoss = std::nan(""), lastLoss = std::nan(""), lrScale = 1;
    int rollbacks = 0;
    double lastCheckKl = 0, lastEvaluationKl = 0; // the KL guard's previous measurements
    auto history = nlohmann::json::array();
    if (!from.empty()) {
        const auto state = readCheckpoint(from, optimizer);
        step = state.at("global_step").get<std::int64_t>();
        bestStep = state.value("best_step", std::int64_t(-1));
        bestMetric = bestStep >= 0 ? numberOr(state, "best_metric", bestMetric) : bestMetric;
        firstLoss = numberOr(state, "first_loss", firstLoss);
        lastLoss = numberOr(state, "last_loss", lastLoss);
        lrScale = numberOr(state, "lr_scale", 1.0);
        rollbacks = state.value("kl_rollbacks", 0);
        lastCheckKl = numberOr(state, "kl_last_check", 0);
        lastEvaluationKl = numberOr(state, "kl_last_evaluation", 0);
        history = state.value("log_history", nlohmann::json::array());
        setCpuRngStateHex(state.at("rng_state").get<std::string>());
        stage.restoreState(state);
        result.resumed = true;
        log("resumed from " + from.string() + " at step " + std::to_string(step));
    }
    const auto total = stage.totalSteps(), perEpoch = stage.stepsPerEpoch();
    const bool guarded = m_guard.maxKl > 0;
    model::AutocastBf16 autocast(a.bf16, m_policy.model()->device());

    const auto record = [&](std::int64_t at, const HeldOutEvaluation &e) {
        nlohmann::json h{{"step", at}};
        for (const auto &[k, v] : e.metrics)
            h[k] = v;
        history.push_back(h);
        if (cb.onMetrics)
            cb.onMetrics(at, e.metrics);
    };
    const auto bestCheckpointName = [&] { return bestStep >= 0 ? checkpointDir(m_out, bestStep).filename().string() : std::string(); };
    const auto save = [&] {
        nlohmann::json state{{"global_step", step},        {"total_steps", total},
                             {"best_metric", bestStep >= 0 ? nlohmann::json(bestMetric) : nlohmann::json()},
                             {"best_step", bestStep},       {"best_checkpoint", bestCheckpointName()},
                             {"first_loss", numberOrNull(firstLoss)}, {"last_loss", numberOrNull(lastLoss)},
                             {"lr_scale", lrScale},         {"kl_rollbacks", rollbacks},
                             {"kl_last_check", lastCheckKl}, {"kl_last_evaluation", lastEvaluationKl},
                             {"rng_state", cpuRngStateHex()}, {"log_history", history}};
        stage.saveState(state);
        writeCheckpoint(m_out, step, [&](const fs::path &staging) { m_policy.writeModelFiles(staging); }, optimizer, state);
        pruneCheckpoints(m_out, static_cast<std::size_t>(a.save_total_limit), bestStep);
    };

    if (stage.evaluates() && step == 0) {
        result.before = stage.evaluate();
        record(0, *result.before);
        stage.reportAt(0);
    }
    Snapshot good;
    if (guarded)
        good.take(params, optimizer, step);

    const auto started = std::chrono::steady_clock::now();
    const auto startStep = step;
    bool savedAtStep = false;
    while (step < total) {
        optimizer.zero_grad();
        const auto out = stage.accumulate(step, cb.cancelled);
        if (!out) {
            optimizer.zero_grad();
            result.cancelled = true;
            break;
        }
        double gradNorm = 0;
        if (a.max_grad_norm > 0) {
            gradNorm = torch::nn::utils::clip_grad_norm_(params, a.max_grad_norm);
        } else {
            for (const auto &p : params)
                if (p.grad().defined())
                    gradNorm += p.grad().to(torch::kDouble).pow(2).sum().item<double>();
            gradNorm = std::sqrt(gradNorm);
        }
        const auto lr = scheduledRate(a, step, total) * lrScale;
        for (auto &group : optimizer.param_groups())
            static_cast<torch::optim::AdamWOptions &>(group.options()).lr(lr);
        optimizer.step();
        ++step;
        savedAtStep = false;
        if (std::isnan(firstLoss))
            firstLoss = out->loss;
        lastLoss = out->loss;

        const auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        const TrainProgress progress{step, total, double(step) / double(perEpoch), out->loss, lr, gradNorm, elapsed,
                                     elapsed / double(step - startStep) * double(total - step)};
        if (cb.onProgress)
            cb.onProgress(progress);
        if (step % a.logging_steps == 0 || step == total) {
            NamedValues metrics{{"loss", out->loss}, {"learning_rate", lr}, {"grad_norm", gradNorm}, {"epoch", progress.epoch}};
            metrics.insert(metrics.end(), out->named.begin(), out->named.end());
            record(step, {metrics, 0, {}});
        }

        const bool epochEnd = stage.endsEpoch(step) || step == total;
        const bool evaluateNow = stage.evaluates() && (a.eval_steps > 0 ? step % a.eval_steps == 0 || step == total : epochEnd);
        bool saveNow = a.save_steps > 0 ? step % a.save_steps == 0 || step == total : epochEnd;
        std::optional<HeldOutEvaluation> evaluation;
        std::optional<double> kl;
        double *previousKl = nullptr; // the last measurement of the same kind (checks and evaluations use other queries)
        if (evaluateNow) {
            evaluation = stage.evaluate();
            record(step, *evaluation);
            result.last = evaluation;
            kl = evaluation->kl;
            previousKl = &lastEvaluationKl;
            std::string line = "step " + std::to_string(step) + ":";
            for (const auto &[k, v] : evaluation->metrics)
                line += " " + k + " " + format(v);
            log(line);
        } else if (guarded && m_guard.checkSteps > 0 && step % m_guard.checkSteps == 0) {
            kl = stage.checkKl();
            previousKl = &lastCheckKl;
            record(step, {{{"kl_check", *kl}}, 0, {}});
        }
        bool within = true, stop = false;
        if (guarded && kl) {
            if (*kl > m_guard.maxKl) {
                within = false;
                good.restore(params, optimizer);
                stage.afterRollback();
                ++rollbacks;
                lrScale *= 0.5;
                record(step, {{{"kl_rollback_to", double(good.step)}, {"lr_scale", lrScale}}, 0, {}});
                log("step " + std::to_string(step) + ": KL " + format(*kl) + " is above max_kl " + format(m_guard.maxKl) +
                    ": back to step " + std::to_string(good.step) + "'s weights, learning rate x" + format(lrScale));
                if (rollbacks > m_guard.maxHalvings) {
                    stop = true;
                    result.stoppedByKl = true;
                    log("KL stays above max_kl at 1/" + format(1 / lrScale) + " of the learning rate: the run stops here");
                }
            } else {
                // Above the target while still growing: halve (a KL that holds still above it is left alone,
                // or the rate would vanish); never below 1/128 this way.
                if (*kl > m_guard.target && *kl > *previousKl && lrScale > 1.0 / 128) {
                    lrScale *= 0.5;
                    record(step, {{{"lr_scale", lrScale}}, 0, {}});
                    log("step " + std::to_string(step) + ": KL " + format(*kl) + " is above the target " + format(m_guard.target) +
                        ": learning rate x" + format(lrScale));
                }
                good.take(params, optimizer, step);
            }
            *previousKl = *kl;
        }
        if (evaluation && within && evaluation->selection > bestMetric) {
            bestMetric = evaluation->selection;
            bestStep = step;
            result.bestEvaluation = evaluation;
            stage.reportAt(step);
            saveNow = true; // the best checkpoint must exist
        }
        if (saveNow || stop) {
            save();
            savedAtStep = true;
        }
        if (stop)
            break;
    }
    if (!savedAtStep && step > 0 && !fs::exists(checkpointDir(m_out, step)))
        save(); // a cancelled run leaves a checkpoint at its last completed step

    result.steps = step;
    result.firstLoss = firstLoss;
    result.lastLoss = lastLoss;
    result.lastCheckpoint = checkpointDir(m_out, step);
    result.klRollbacks = rollbacks;
    result.lrScale = lrScale;
    result.history = history;
    if (result.cancelled)
        return result;
    // Without held-out queries the last checkpoint is published; with them the best evaluated one.
    const auto chosen = stage.evaluates() ? bestStep : step;
    if (chosen > 0 && fs::exists(checkpointDir(m_out, chosen))) {
        result.bestStep = chosen;
        result.published = publishBest(m_out, checkpointDir(m_out, chosen));
    } else if (!stage.evaluates()) {
        result.notPublished = "no step was taken";
    } else if (guarded) {
        result.notPublished = "no evaluation after step 0 was within max_kl " + format(m_guard.maxKl) +
                              (result.stoppedByKl ? " (the KL guard halved the learning rate " + std::to_string(rollbacks) + " times)" : "");
    } else {
        result.notPublished = "no evaluation after step 0";
    }
    return result;
}

} // namespace unirank::training
