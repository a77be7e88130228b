// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/training/sft_trainer.h"

#include "core/eval/metrics.h"
#include "core/model/autocast.h"
#include "core/model/lora.h"
#include "core/training/checkpoints.h"
#include "core/training/lr_schedule.h"
#include "core/training/pair_encoder.h"
#include "core/training/sft_objective.h"
#include "core/training/trainable_policy.h"
#include "core/util/atomic_file.h"


#include <chrono>
#include <cmath>
#include <numeric>
#include <random>

namespace fs = std::filesystem;

namespace unirank::training {

struct SftTrainer::State {
    std::shared_ptr<scoring::ScoringModel> sm;
    SftConfig c;
    std::vector<TrainGroup> trainGroups, valGroups;
    fs::path out;
    std::string base;
    PairEncoder encoder;
    std::vector<EncodedPair> train, val;
    std::size_t skipped = 0;
    std::vector<std::string> skipReasons; ///< the first few, for the log
    TrainablePolicy policy;
    std::unique_ptr<torch::optim::AdamW> optimizer;

    std::int64_t step = 0, totalSteps = 0, stepsPerEpoch = 0, batchesPerEpoch = 0;
    double bestMetric = -1;
    std::int64_t bestStep = -1;
    double firstLoss = std::nan(""), lastLoss = std::nan("");
    nlohmann::json history = nlohmann::json::array();

    State(std::shared_ptr<scoring::ScoringModel> m, SftConfig config, std::vector<TrainGroup> t, std::vector<TrainGroup> v,
          fs::path o, std::string b)
        : sm(std::move(m)), c(std::move(config)), trainGroups(std::move(t)), valGroups(std::move(v)), out(std::move(o)),
          base(std::move(b)), encoder(sm), policy(sm, base)
    {
    }

    bool labelTokensOnly() const { return c.label_loss == "label_tokens"; }

    void encodeAll()
    {
        trainGroups = balanceGroups(trainGroups, {c.negatives_per_positive, static_cast<std::size_t>(c.max_candidates_per_query), c.seed});
        valGroups = balanceGroups(valGroups, {0, 0, c.seed});
        const auto encode = [&](const std::vector<TrainGroup> &groups, std::vector<EncodedPair> &into) {
            for (std::size_t g = 0; g < groups.size(); ++g)
                for (const auto &item : groups[g].items) {
                    try {
                        into.push_back(encoder.encode(groups[g], item, g));
                    } catch (const InputError &e) {
                        ++skipped;
                        if (skipReasons.size() < 3)
                            skipReasons.push_back(item.candidateId + ": " + e.what());
                    }
                }
        };
        encode(trainGroups, train);
        encode(valGroups, val);
        if (train.empty())
            throw InputError("no training example left after balancing (each query needs a relevant and an irrelevant candidate)");
    }

    /// The micro-batches of an epoch: groups in a seeded order, items of a group together.
    std::vector<std::vector<const EncodedPair *>> epochBatches(std::int64_t epoch) const
    {
        std::map<std::size_t, std::vector<const EncodedPair *>> byGroup;
        for (const auto &p : train)
            byGroup[p.group].push_back(&p);
        std::vector<std::vector<const EncodedPair *>> groups;
        for (auto &[g, items] : byGroup)
            groups.push_back(std::move(items));
        std::mt19937_64 rng(c.seed * 1000003ull + static_cast<std::uint64_t>(epoch));
        std::shuffle(groups.begin(), groups.end(), rng);
        std::vector<std::vector<const EncodedPair *>> batches(1);
        for (auto &items : groups) {
            std::shuffle(items.begin(), items.end(), rng);
            for (const auto *p : items) {
                if (static_cast<std::int64_t>(batches.back().size()) == c.per_device_train_batch_size)
                    batches.emplace_back();
                batches.back().push_back(p);
            }
        }
        return batches;
    }

    void setupModel(const fs::path &resumeFrom)
    {
        policy.setup(c, resumeFrom);
        optimizer = std::make_unique<torch::optim::AdamW>(
            policy.parameters(), torch::optim::AdamWOptions(c.learning_rate)
                                     .betas(std::make_tuple(c.adam_beta1, c.adam_beta2))
                                     .eps(c.adam_epsilon)
                                     .weight_decay(c.weight_decay));
    }

    fs::path checkpointDir(std::int64_t s) const { return training::checkpointDir(out, s); }

    void saveCheckpoint()
    {
        const nlohmann::json state{{"global_step", step},
                                   {"total_steps", totalSteps},
                                   {"best_metric", bestMetric},
                                   {"best_step", bestStep},
                                   {"best_checkpoint", bestStep >= 0 ? checkpointDir(bestStep).filename().string() : ""},
                                   {"first_loss", std::isnan(firstLoss) ? nlohmann::json() : nlohmann::json(firstLoss)},
                                   {"last_loss", std::isnan(lastLoss) ? nlohmann::json() : nlohmann::json(lastLoss)},
                                   {"rng_state", cpuRngStateHex()},
                                   {"log_history", history},
                                   {"config", c.toJson()}};
        writeCheckpoint(out, step, [&](const fs::path &staging) { policy.writeModelFiles(staging); }, *optimizer, state);
        pruneCheckpoints(out, static_cast<std::size_t>(c.save_total_limit), bestStep);
    }

    void restore(const fs::path &dir)
    {
        const auto state = readCheckpoint(dir, *optimizer);
        step = state.at("global_step").get<std::int64_t>();
        bestMetric = state.value("best_metric", -1.0);
        bestStep = state.value("best_step", std::int64_t(-1));
        if (state.contains("first_loss") && !state["first_loss"].is_null())
            firstLoss = state["first_loss"].get<double>();
        if (state.contains("last_loss") && !state["last_loss"].is_null())
            lastLoss = state["last_loss"].get<double>();
        history = state.value("log_history", nlohmann::json::array());
        setCpuRngStateHex(state.at("rng_state").get<std::string>());
    }

    double learningRate() const
    {
        return c.learning_rate * scheduleFactor(c.lr_scheduler_type, step, totalSteps,
                                                static_cast<std::int64_t>(std::ceil(c.warmup_ratio * double(totalSteps))));
    }
};

SftTrainer::SftTrainer(std::shared_ptr<scoring::ScoringModel> model, SftConfig config, std::vector<TrainGroup> train,
                       std::vector<TrainGroup> validation, fs::path outputDir, std::string baseModel)
    : m_state(std::make_unique<State>(std::move(model), std::move(config), std::move(train), std::move(validation),
                                      std::move(outputDir), std::move(baseModel)))
{
    m_state->c.validate("training configuration");
    m_state->encodeAll();
    auto &s = *m_state;
    s.batchesPerEpoch = static_cast<std::int64_t>(s.epochBatches(0).size());
    s.stepsPerEpoch = (s.batchesPerEpoch + s.c.gradient_accumulation_steps - 1) / s.c.gradient_accumulation_steps;
    s.totalSteps = s.c.max_steps > 0 ? s.c.max_steps
                                     : static_cast<std::int64_t>(std::ceil(s.c.num_train_epochs * double(s.stepsPerEpoch)));
}

SftTrainer::~SftTrainer() = default;

fs::path SftTrainer::latestCheckpoint(const fs::path &outputDir) { return training::latestCheckpoint(outputDir); }

ValidationResult SftTrainer::validate()
{
    auto &s = *m_state;
    ValidationResult r;
    if (s.val.empty())
        return r;
    auto &m = s.sm->model;
    const bool wasTraining = m->is_training();
    m->eval();
    torch::NoGradGuard noGrad;
    model::AutocastBf16 autocast(s.c.bf16, m->device());
    std::vector<double> margins(s.val.size());
    double lossSum = 0;
    for (std::size_t i = 0; i < s.val.size(); i += static_cast<std::size_t>(s.c.per_device_train_batch_size)) {
        std::vector<const EncodedPair *> rows;
        for (std::size_t j = i; j < std::min(s.val.size(), i + static_cast<std::size_t>(s.c.per_device_train_batch_size)); ++j)
            rows.push_back(&s.val[j]);
        auto batch = makeBatch(rows, *s.sm->prompt, s.labelTokensOnly(), m->device());
        const auto loss = sftLoss(s.policy.logits(batch, s.encoder), batch.labels, batch.groups, s.labelTokensOnly(),
                                  s.sm->prompt->negativeId(), s.sm->prompt->positiveId(), 0.0);
        lossSum += loss.crossEntropy * double(rows.size());
        const auto mg = loss.margins.to(torch::kCPU, torch::kDouble);
        for (std::size_t k = 0; k < rows.size(); ++k)
            margins[i + k] = mg[static_cast<std::int64_t>(k)].item<double>();
    }
    r.loss = lossSum / double(s.val.size());
    double correct = 0;
    eval::Qrels qrels;
    eval::Run run;
    for (std::size_t a = 0; a < s.val.size(); ++a) {
        const auto &pa = s.val[a];
        const auto q = std::to_string(pa.group);
        qrels[q][pa.candidateId] = pa.grade >= 0 ? pa.grade : pa.label;
        run[q].emplace_back(pa.candidateId, margins[a]);
        if (pa.label != 1)
            continue;
        for (std::size_t b = 0; b < s.val.size(); ++b)
            if (s.val[b].group == pa.group && s.val[b].label == 0) {
                ++r.pairs;
                correct += margins[a] > margins[b] ? 1.0 : margins[a] == margins[b] ? 0.5 : 0.0;
            }
    }
    r.pairAccuracy = r.pairs ? correct / double(r.pairs) : 0;
    const auto evaluation = eval::evaluateRun(qrels, run, {s.c.relevance_threshold, false, {"ndcg_cut_10", "success_1"}});
    r.ndcg10 = evaluation.value("ndcg_cut_10");
    r.success1 = evaluation.value("success_1");
    r.queries = evaluation.evaluatedQueries;
    if (wasTraining)
        m->train();
    return r;
}

SftResult SftTrainer::run(bool resume, const TrainCallbacks &cb)
{
    auto &s = *m_state;
    SftResult result;
    result.skippedItems = s.skipped;
    const auto log = [&](const std::string &line) {
        if (cb.onLog)
            cb.onLog(line);
    };
    const auto from = resume ? latestCheckpoint(s.out) : fs::path();
    s.setupModel(from);
    if (!from.empty()) {
        s.restore(from);
        result.resumed = true;
        log("resumed from " + from.string() + " at step " + std::to_string(s.step));
    }
    auto &m = s.sm->model;
    model::AutocastBf16 autocast(s.c.bf16, m->device());
    result.before = validate();
    if (!from.empty() && !s.history.empty())
        for (const auto &h : s.history)
            if (h.contains("val_pair_accuracy") && h.value("step", std::int64_t(-1)) == 0)
                result.before.pairAccuracy = h["val_pair_accuracy"].get<double>();
    if (s.step == 0) {
        s.history.push_back({{"step", 0}, {"val_pair_accuracy", result.before.pairAccuracy}, {"val_loss", result.before.loss}});
        if (cb.onMetrics)
            cb.onMetrics(0, {{"val_pair_accuracy", result.before.pairAccuracy}, {"val_loss", result.before.loss},
                             {"val_ndcg_cut_10", result.before.ndcg10}, {"val_success_1", result.before.success1}});
    }
    log("training " + std::to_string(s.train.size()) + " examples in " + std::to_string(s.batchesPerEpoch) +
        " batches per epoch, " + std::to_string(s.totalSteps) + " steps" +
        (s.skipped ? ", " + std::to_string(s.skipped) + " examples skipped (unreadable)" : ""));
    for (const auto &reason : s.skipReasons)
        log("skipped " + reason);

    const auto started = std::chrono::steady_clock::now();
    const auto startStep = s.step;
    std::int64_t loadedEpoch = -1;
    std::vector<std::vector<const EncodedPair *>> batches;
    bool savedAtStep = false;
    while (s.step < s.totalSteps) {
        const auto epoch = s.step / s.stepsPerEpoch;
        const auto window = s.step % s.stepsPerEpoch;
        if (epoch != loadedEpoch) {
            batches = s.epochBatches(epoch);
            loadedEpoch = epoch;
        }
        s.optimizer->zero_grad();
        const auto first = window * s.c.gradient_accumulation_steps;
        const auto last = std::min<std::int64_t>(first + s.c.gradient_accumulation_steps, s.batchesPerEpoch);
        std::size_t items = 0;
        for (auto b = first; b < last; ++b)
            items += batches[static_cast<std::size_t>(b)].size();
        double lossSum = 0;
        bool cancelled = false;
        for (auto b = first; b < last; ++b) {
            if (cb.cancelled && cb.cancelled()) {
                cancelled = true;
                break;
            }
            const auto &rows = batches[static_cast<std::size_t>(b)];
            auto batch = makeBatch(rows, *s.sm->prompt, s.labelTokensOnly(), m->device());
            auto loss = sftLoss(s.policy.logits(batch, s.encoder), batch.labels, batch.groups, s.labelTokensOnly(), s.sm->prompt->negativeId(),
                                s.sm->prompt->positiveId(), s.c.listwise_weight);
            const double share = double(rows.size()) / double(items);
            (loss.loss * share).backward();
            lossSum += loss.loss.item<double>() * share;
        }
        if (cancelled) {
            s.optimizer->zero_grad();
            result.cancelled = true;
            break;
        }
        double gradNorm = 0;
        if (s.c.max_grad_norm > 0) {
            gradNorm = torch::nn::utils::clip_grad_norm_(s.policy.parameters(), s.c.max_grad_norm);
        } else {
            for (const auto &p : s.policy.parameters())
                if (p.grad().defined())
                    gradNorm += p.grad().to(torch::kDouble).pow(2).sum().item<double>();
            gradNorm = std::sqrt(gradNorm);
        }
        const auto lr = s.learningRate();
        for (auto &group : s.optimizer->param_groups())
            static_cast<torch::optim::AdamWOptions &>(group.options()).lr(lr);
        s.optimizer->step();
        ++s.step;
        savedAtStep = false;
        if (std::isnan(s.firstLoss))
            s.firstLoss = lossSum;
        s.lastLoss = lossSum;

        const auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        TrainProgress progress{s.step, s.totalSteps, double(s.step) / double(s.stepsPerEpoch), lossSum, lr, gradNorm, elapsed,
                               elapsed / double(s.step - startStep) * double(s.totalSteps - s.step)};
        if (cb.onProgress)
            cb.onProgress(progress);
        if (s.step % s.c.logging_steps == 0 || s.step == s.totalSteps) {
            s.history.push_back({{"step", s.step}, {"loss", lossSum}, {"learning_rate", lr}, {"grad_norm", gradNorm}});
            if (cb.onMetrics)
                cb.onMetrics(s.step, {{"loss", lossSum}, {"learning_rate", lr}, {"grad_norm", gradNorm}, {"epoch", progress.epoch}});
        }
        const bool epochEnd = s.step % s.stepsPerEpoch == 0 || s.step == s.totalSteps;
        bool save = s.c.save_steps > 0 ? s.step % s.c.save_steps == 0 || s.step == s.totalSteps : epochEnd;
        if (epochEnd && !s.val.empty()) {
            const auto v = validate();
            s.history.push_back({{"step", s.step}, {"val_pair_accuracy", v.pairAccuracy}, {"val_loss", v.loss},
                                 {"val_ndcg_cut_10", v.ndcg10}, {"val_success_1", v.success1}});
            if (cb.onMetrics)
                cb.onMetrics(s.step, {{"val_pair_accuracy", v.pairAccuracy}, {"val_loss", v.loss},
                                      {"val_ndcg_cut_10", v.ndcg10}, {"val_success_1", v.success1}});
            log("step " + std::to_string(s.step) + ": validation pair accuracy " + std::to_string(v.pairAccuracy) +
                ", loss " + std::to_string(v.loss));
            if (v.pairAccuracy > s.bestMetric) {
                s.bestMetric = v.pairAccuracy;
                s.bestStep = s.step;
                save = true; // the best checkpoint must exist
            }
        }
        if (save) {
            s.saveCheckpoint();
            savedAtStep = true;
        }
    }
    if (!savedAtStep && s.step > 0 && !fs::exists(s.checkpointDir(s.step)))
        s.saveCheckpoint(); // a cancelled run leaves a checkpoint at its last completed step
    result.steps = s.step;
    result.firstLoss = s.firstLoss;
    result.lastLoss = s.lastLoss;
    result.lastCheckpoint = s.checkpointDir(s.step);
    result.after = validate();
    result.bestPairAccuracy = s.bestMetric;
    result.bestStep = s.bestStep;
    // The best checkpoint's model files become <output>/best (the last one without validation data).
    const auto bestDir = s.checkpointDir(s.bestStep >= 0 ? s.bestStep : s.step);
    if (!result.cancelled && fs::exists(bestDir)) {
        result.best = publishBest(s.out, bestDir);
    }
    return result;
}

} // namespace unirank::training
