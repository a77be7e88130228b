// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/training/sft_trainer.h"

#include "core/eval/metrics.h"
#include "core/model/autocast.h"
#include "core/training/checkpoints.h"
#include "core/training/pair_encoder.h"
#include "core/training/sft_objective.h"
#include "core/training/trainable_policy.h"
#include "core/training/training_loop.h"

#include <cmath>
#include <map>
#include <numeric>
#include <random>

namespace fs = std::filesystem;

namespace unirank::training {

/// Instruction tuning as a stage of the shared loop: its data (balanced yes/no examples grouped by
/// query) and its objective (sftLoss); validation on the selection queries.
struct SftTrainer::State : TrainingStage {
    std::shared_ptr<scoring::ScoringModel> sm;
    SftConfig c;
    std::vector<TrainGroup> trainGroups, valGroups, reportGroups;
    fs::path out;
    std::string base;
    PairEncoder encoder;
    std::vector<EncodedPair> train, val, report; ///< val: the selection queries
    std::size_t skipped = 0;
    std::vector<std::string> skipReasons; ///< the first few, for the log
    TrainablePolicy policy;

    std::int64_t steps = 0, stepsPer = 0, batchesPerEpoch = 0;
    ValidationResult latest, start;    ///< selection queries: the newest evaluation, the start's
    double bestSelection = -1;         ///< the published checkpoint's selection pair accuracy
    ValidationResult reportStart, reportBest; ///< reporting queries: the start, the published checkpoint
    std::int64_t loadedEpoch = -1;
    std::vector<std::vector<const EncodedPair *>> batches;

    State(std::shared_ptr<scoring::ScoringModel> m, SftConfig config, std::vector<TrainGroup> t, std::vector<TrainGroup> v,
          fs::path o, std::string b)
        : sm(std::move(m)), c(std::move(config)), trainGroups(std::move(t)), out(std::move(o)), base(std::move(b)), encoder(sm),
          policy(sm, base)
    {
        if (!c.prompt_template.empty()) { // train with this layout; the adapter keeps it (writeModelFiles)
            auto tmpl = scoring::PromptTemplate::load(c.prompt_template);
            if (!tmpl)
                throw InputError("prompt_template: " + tmpl.error().message);
            const auto &tok = sm->model->config().tokens;
            sm->prompt = std::make_unique<scoring::BoundTemplate>(*tmpl, sm->tokenizer, static_cast<std::int32_t>(tok.imageToken),
                                                                 static_cast<std::int32_t>(tok.visionStart),
                                                                 static_cast<std::int32_t>(tok.visionEnd));
        }
        std::vector<std::string> ids;
        for (const auto &g : v)
            ids.push_back(g.queryId);
        const auto split = splitHeldOut(ids, c.report_split, c.seed);
        for (const auto i : split.selection)
            valGroups.push_back(v[i]);
        for (const auto i : split.reporting)
            reportGroups.push_back(v[i]);
    }

    bool labelTokensOnly() const { return c.label_loss == "label_tokens"; }

    void encodeAll()
    {
        trainGroups = balanceGroups(trainGroups, {c.negatives_per_positive, static_cast<std::size_t>(c.max_candidates_per_query), c.seed});
        valGroups = balanceGroups(valGroups, {0, 0, c.seed});
        reportGroups = balanceGroups(reportGroups, {0, 0, c.seed});
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
        encode(reportGroups, report);
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
        std::vector<std::vector<const EncodedPair *>> planned(1);
        for (auto &items : groups) {
            std::shuffle(items.begin(), items.end(), rng);
            for (const auto *p : items) {
                if (static_cast<std::int64_t>(planned.back().size()) == c.per_device_train_batch_size)
                    planned.emplace_back();
                planned.back().push_back(p);
            }
        }
        return planned;
    }

    void prepare(const fs::path &checkpoint) override { policy.setup(c, checkpoint); }
    std::int64_t totalSteps() const override { return steps; }
    std::int64_t stepsPerEpoch() const override { return stepsPer; }
    bool evaluates() const override { return !val.empty(); }

    std::optional<StepOutput> accumulate(std::int64_t step, const std::function<bool()> &cancelled) override
    {
        const auto epoch = step / stepsPer, window = step % stepsPer;
        if (epoch != loadedEpoch) {
            batches = epochBatches(epoch);
            loadedEpoch = epoch;
        }
        const auto first = window * c.gradient_accumulation_steps;
        const auto last = std::min<std::int64_t>(first + c.gradient_accumulation_steps, batchesPerEpoch);
        std::size_t items = 0;
        for (auto b = first; b < last; ++b)
            items += batches[static_cast<std::size_t>(b)].size();
        StepOutput result;
        for (auto b = first; b < last; ++b) {
            if (cancelled && cancelled())
                return std::nullopt;
            const auto &rows = batches[static_cast<std::size_t>(b)];
            auto batch = makeBatch(rows, *sm->prompt, labelTokensOnly(), sm->model->device());
            auto loss = sftLoss(policy.logits(batch, encoder), batch.labels, batch.groups, labelTokensOnly(), sm->prompt->negativeId(),
                                sm->prompt->positiveId(), c.listwise_weight);
            const double share = double(rows.size()) / double(items);
            (loss.loss * share).backward();
            result.loss += loss.loss.item<double>() * share;
        }
        return result;
    }

    HeldOutEvaluation evaluate() override
    {
        const auto v = latest = validate(val);
        return {{{"val_pair_accuracy", v.pairAccuracy}, {"val_loss", v.loss}, {"val_ndcg_cut_10", v.ndcg10}, {"val_success_1", v.success1}},
                v.pairAccuracy,
                {}};
    }

    void reportAt(std::int64_t step) override
    {
        if (step == 0) {
            start = latest;
            reportStart = validate(report);
        } else {
            bestSelection = latest.pairAccuracy;
            reportBest = validate(report);
        }
    }

    void saveState(nlohmann::json &state) const override
    {
        state["config"] = c.toJson();
        state["selection_start"] = toJson(start);
        state["selection_best"] = bestSelection;
        state["report_start"] = toJson(reportStart);
        state["report_best"] = toJson(reportBest);
    }

    void restoreState(const nlohmann::json &state) override
    {
        start = fromJson(state.value("selection_start", nlohmann::json::object()));
        bestSelection = state.value("selection_best", -1.0);
        reportStart = fromJson(state.value("report_start", nlohmann::json::object()));
        reportBest = fromJson(state.value("report_best", nlohmann::json::object()));
    }

    static nlohmann::json toJson(const ValidationResult &v)
    {
        return {{"pair_accuracy", v.pairAccuracy}, {"loss", v.loss}, {"ndcg_cut_10", v.ndcg10},
                {"success_1", v.success1},        {"pairs", v.pairs}, {"queries", v.queries}};
    }
    static ValidationResult fromJson(const nlohmann::json &j)
    {
        ValidationResult v;
        v.pairAccuracy = j.value("pair_accuracy", 0.0);
        v.loss = j.value("loss", 0.0);
        v.ndcg10 = j.value("ndcg_cut_10", 0.0);
        v.success1 = j.value("success_1", 0.0);
        v.pairs = j.value("pairs", std::size_t(0));
        v.queries = j.value("queries", std::size_t(0));
        return v;
    }

    ValidationResult validate(const std::vector<EncodedPair> &rowsOf);
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
    s.stepsPer = (s.batchesPerEpoch + s.c.gradient_accumulation_steps - 1) / s.c.gradient_accumulation_steps;
    s.steps = s.c.max_steps > 0 ? s.c.max_steps : static_cast<std::int64_t>(std::ceil(s.c.num_train_epochs * double(s.stepsPer)));
}

SftTrainer::~SftTrainer() = default;

fs::path SftTrainer::latestCheckpoint(const fs::path &outputDir) { return training::latestCheckpoint(outputDir); }

ValidationResult SftTrainer::validate() { return m_state->validate(m_state->val); }

ValidationResult SftTrainer::State::validate(const std::vector<EncodedPair> &rowsOf)
{
    ValidationResult r;
    if (rowsOf.empty())
        return r;
    auto &m = sm->model;
    const bool wasTraining = m->is_training();
    m->eval();
    torch::NoGradGuard noGrad;
    model::AutocastBf16 autocast(c.bf16, m->device());
    std::vector<double> margins(rowsOf.size());
    double lossSum = 0;
    const auto chunk = static_cast<std::size_t>(c.per_device_train_batch_size);
    for (std::size_t i = 0; i < rowsOf.size(); i += chunk) {
        std::vector<const EncodedPair *> rows;
        for (std::size_t j = i; j < std::min(rowsOf.size(), i + chunk); ++j)
            rows.push_back(&rowsOf[j]);
        auto batch = makeBatch(rows, *sm->prompt, labelTokensOnly(), m->device());
        const auto loss = sftLoss(policy.logits(batch, encoder), batch.labels, batch.groups, labelTokensOnly(), sm->prompt->negativeId(),
                                  sm->prompt->positiveId(), 0.0);
        lossSum += loss.crossEntropy * double(rows.size());
        const auto mg = loss.margins.to(torch::kCPU, torch::kDouble);
        for (std::size_t k = 0; k < rows.size(); ++k)
            margins[i + k] = mg[static_cast<std::int64_t>(k)].item<double>();
    }
    r.loss = lossSum / double(rowsOf.size());
    double correct = 0;
    eval::Qrels qrels;
    eval::Run run;
    for (std::size_t a = 0; a < rowsOf.size(); ++a) {
        const auto &pa = rowsOf[a];
        const auto q = std::to_string(pa.group);
        qrels[q][pa.candidateId] = pa.grade >= 0 ? pa.grade : pa.label;
        run[q].emplace_back(pa.candidateId, margins[a]);
        if (pa.label != 1)
            continue;
        for (std::size_t b = 0; b < rowsOf.size(); ++b)
            if (rowsOf[b].group == pa.group && rowsOf[b].label == 0) {
                ++r.pairs;
                correct += margins[a] > margins[b] ? 1.0 : margins[a] == margins[b] ? 0.5 : 0.0;
            }
    }
    r.pairAccuracy = r.pairs ? correct / double(r.pairs) : 0;
    const auto evaluation = eval::evaluateRun(qrels, run, {c.relevance_threshold, false, {"ndcg_cut_10", "success_1"}});
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
    s.loadedEpoch = -1;
    if (cb.onLog) {
        cb.onLog("training " + std::to_string(s.train.size()) + " examples in " + std::to_string(s.batchesPerEpoch) +
                 " batches per epoch, " + std::to_string(s.steps) + " steps; " + std::to_string(s.valGroups.size()) +
                 " selection and " + std::to_string(s.reportGroups.size()) + " reporting queries" +
                 (s.skipped ? "; " + std::to_string(s.skipped) + " examples skipped (unreadable)" : ""));
        for (const auto &reason : s.skipReasons)
            cb.onLog("skipped " + reason);
    }
    TrainingLoop loop(s.policy, s.c, s.out);
    const auto r = loop.run(s, resume, cb);
    result.resumed = r.resumed;
    result.cancelled = r.cancelled;
    result.steps = r.steps;
    result.firstLoss = r.firstLoss;
    result.lastLoss = r.lastLoss;
    result.lastCheckpoint = r.lastCheckpoint;
    // The final weights' validation: the loop's last evaluation is of them unless the run was cancelled
    // (or had no step left to take).
    result.after = r.last && !r.cancelled ? s.latest : s.validate(s.val);
    result.bestStep = r.bestStep;
    result.best = r.published;
    result.before = s.start;
    result.reportBefore = s.reportStart;
    result.reportAfter = s.reportBest;
    result.reportingQueries = s.reportGroups.size();
    result.bestPairAccuracy = s.evaluates() && r.bestStep >= 0 ? s.bestSelection : -1;
    return result;
}

} // namespace unirank::training
