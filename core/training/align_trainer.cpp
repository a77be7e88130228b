// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/training/align_trainer.h"

#include "core/eval/metrics.h"
#include "core/model/autocast.h"
#include "core/training/alignment_objective.h"
#include "core/training/checkpoints.h"
#include "core/training/plackett_luce.h"
#include "core/training/trainable_policy.h"
#include "core/training/training_loop.h"

#include <ATen/CPUGeneratorImpl.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <map>
#include <numeric>
#include <random>
#include <tuple>

namespace fs = std::filesystem;

namespace unirank::training {
namespace {

/// Means of `key` over the first and the last tenth of the logged steps (1 to 50 entries each), or the
/// fallbacks when nothing was logged: one batch's reward is too noisy to compare.
std::pair<double, double> firstAndLastMeans(const nlohmann::json &history, const char *key, double first, double last)
{
    std::vector<double> v;
    for (const auto &h : history)
        if (h.contains(key) && h.value("step", std::int64_t(0)) > 0)
            v.push_back(h[key].get<double>());
    if (v.empty())
        return {first, last};
    const auto w = std::clamp<std::size_t>(v.size() / 10, 1, 50);
    const auto mean = [](auto b, auto e) { return std::accumulate(b, e, 0.0) / double(std::distance(b, e)); };
    return {mean(v.begin(), v.begin() + static_cast<std::ptrdiff_t>(w)), mean(v.end() - static_cast<std::ptrdiff_t>(w), v.end())};
}

/// A query's encodable candidates: `rows` are the encoded items, `slot[i]` the row of item i or -1.
struct EncodedGroup {
    std::vector<EncodedPair> rows;
    std::vector<int> slot;
};

struct UnitPair {
    std::size_t group;
    int better, worse; ///< rows
};

} // namespace

/// Alignment as a stage of the shared loop: its data (rounds of preference pairs with mined hard
/// negatives) and objective (DPO or PL-GRPO); evaluation with KL to the frozen reference.
struct AlignTrainer::State : TrainingStage {
    AlignMethod method;
    AlignConfig c;
    std::vector<AlignGroup> trainGroups, valGroups, reportGroups; ///< valGroups: the selection queries
    fs::path out, startAdapter;
    std::int64_t rounds;
    PairEncoder encoder;
    TrainablePolicy policy;
    std::vector<EncodedGroup> train, val, report;
    std::vector<torch::Tensor> trainRef, valRef, reportRef; ///< reference scores per group, [rows]
    std::vector<AlignGroup> roundGroups;          ///< training groups with this round's mined pairs
    std::int64_t round = -1;
    nlohmann::json mined = nlohmann::json::array(); ///< this round's mined pairs [group, better, worse, reason]

    std::int64_t stepsPer = 0, stepsPerRound = 0, steps = 0;
    double rewardFirst = std::nan(""), rewardLast = std::nan("");
    at::Generator sampler = at::make_generator<at::CPUGeneratorImpl>(0); ///< PL-GRPO's rankings

    // Per run (run() resets them)
    std::function<void(const std::string &)> log;
    bool resumed = false;
    std::int64_t loadedEpoch = -1;
    std::vector<std::vector<std::size_t>> batches;
    std::vector<fs::path> preferenceFiles;
    std::size_t trainingPairs = 0;
    AlignEvaluation latest, start, best;  ///< selection queries: newest evaluation, the start, the published one
    AlignEvaluation reportStart, reportBest; ///< reporting queries

    /// PL-GRPO's group of rankings for one query, sampled once per batch and kept for the batch's
    /// num_iterations optimizer steps (TRL's semantics): the ratio is taken against the sampling
    /// policy's log-probabilities, so it leaves 1 after the first step and epsilon clips.
    struct GrpoSample {
        torch::Tensor rankings, advantages, oldLogProbs, refLogProbs, rewards;
        double agreement = 0, ndcg = 0; ///< means over the group
    };
    std::map<std::size_t, GrpoSample> grpoSamples; ///< by training group, for the current batch

    State(std::shared_ptr<scoring::ScoringModel> m, AlignMethod me, AlignConfig config, std::vector<AlignGroup> t,
          std::vector<AlignGroup> v, fs::path o, std::string base, fs::path startFrom, std::int64_t r)
        : method(me), c(std::move(config)), trainGroups(std::move(t)), valGroups(std::move(v)), out(std::move(o)),
          startAdapter(std::move(startFrom)), rounds(r), encoder(m), policy(m, std::move(base))
    {
        std::vector<std::string> ids;
        for (const auto &g : valGroups)
            ids.push_back(g.group.queryId);
        const auto split = splitHeldOut(ids, c.report_split, c.seed);
        std::vector<AlignGroup> selection;
        for (const auto i : split.selection)
            selection.push_back(std::move(valGroups[i]));
        for (const auto i : split.reporting)
            reportGroups.push_back(std::move(valGroups[i]));
        valGroups = std::move(selection);
    }

    scoring::ScoringModel &sm() { return policy.scoring(); }

    std::vector<EncodedGroup> encodeAll(const std::vector<AlignGroup> &groups)
    {
        std::vector<EncodedGroup> encoded;
        for (std::size_t g = 0; g < groups.size(); ++g) {
            EncodedGroup e;
            for (const auto &item : groups[g].group.items) {
                try {
                    e.rows.push_back(encoder.encode(groups[g].group, item, g));
                    e.slot.push_back(static_cast<int>(e.rows.size()) - 1);
                } catch (const InputError &) {
                    e.slot.push_back(-1);
                }
            }
            encoded.push_back(std::move(e));
        }
        return encoded;
    }

    /// Policy scores (l_yes - l_no) of a group's rows, [rows]; with gradients when grad mode is on.
    torch::Tensor scoreRows(const EncodedGroup &g)
    {
        std::vector<torch::Tensor> parts;
        const auto chunk = static_cast<std::size_t>(std::max<std::int64_t>(c.per_device_train_batch_size, 16));
        for (std::size_t i = 0; i < g.rows.size(); i += chunk) {
            std::vector<const EncodedPair *> rows;
            for (std::size_t j = i; j < std::min(g.rows.size(), i + chunk); ++j)
                rows.push_back(&g.rows[j]);
            auto batch = makeBatch(rows, *sm().prompt, true, policy.model()->device());
            parts.push_back(policy.margins(batch, encoder));
        }
        return parts.empty() ? torch::zeros({0}) : torch::cat(parts);
    }

    std::vector<torch::Tensor> scoreAll(const std::vector<EncodedGroup> &groups)
    {
        auto &m = policy.model();
        const bool wasTraining = m->is_training();
        m->eval();
        torch::NoGradGuard noGrad;
        model::AutocastBf16 autocast(c.bf16, m->device());
        std::vector<torch::Tensor> scores;
        for (const auto &g : groups)
            scores.push_back(scoreRows(g).to(torch::kCPU));
        if (wasTraining)
            m->train();
        return scores;
    }

    /// Pairs of `groups` whose two sides were encoded, as rows.
    static std::vector<UnitPair> pairsOf(const std::vector<AlignGroup> &groups, const std::vector<EncodedGroup> &encoded)
    {
        std::vector<UnitPair> out;
        for (std::size_t g = 0; g < groups.size(); ++g)
            for (const auto &p : groups[g].pairs) {
                const auto b = encoded[g].slot[p.better], w = encoded[g].slot[p.worse];
                if (b >= 0 && w >= 0)
                    out.push_back({g, b, w});
            }
        return out;
    }

    /// Reward targets of a group by row (PL-GRPO).
    static RankingTargets targetsOf(const AlignGroup &group, const EncodedGroup &e)
    {
        RankingTargets t;
        for (std::size_t i = 0; i < group.group.items.size(); ++i)
            if (e.slot[i] >= 0)
                t.grades.push_back(group.group.items[i].grade);
        for (const auto &p : group.pairs) {
            const auto b = e.slot[p.better], w = e.slot[p.worse];
            if (b >= 0 && w >= 0)
                t.preferences.emplace_back(b, w);
        }
        return t;
    }

    static bool hasTargets(const RankingTargets &t)
    {
        return t.grades.size() >= 2 && (!t.preferences.empty() || std::any_of(t.grades.begin(), t.grades.end(), [](int g) { return g > 0; }));
    }

    /// The training units of the current round: pairs (DPO) or queries with targets (PL-GRPO).
    std::size_t unitCount() const
    {
        if (method == AlignMethod::Dpo)
            return pairsOf(roundGroups, train).size();
        std::size_t n = 0;
        for (std::size_t g = 0; g < roundGroups.size(); ++g)
            n += hasTargets(targetsOf(roundGroups[g], train[g])) ? 1 : 0;
        return n;
    }

    /// Mines this round's hard negatives with the current policy and writes the round's preference set.
    void startRound(std::int64_t r, bool fromCheckpoint)
    {
        round = r;
        roundGroups = trainGroups;
        PreferenceCounts counts;
        if (!fromCheckpoint) {
            mined = nlohmann::json::array();
            if (c.mined_pairs_per_query > 0) {
                const auto scores = r == 0 ? trainRef : scoreAll(train);
                for (std::size_t g = 0; g < roundGroups.size(); ++g) {
                    std::vector<double> byItem(roundGroups[g].group.items.size(), -1e30);
                    for (std::size_t i = 0; i < byItem.size(); ++i)
                        if (train[g].slot[i] >= 0)
                            byItem[i] = scores[g][train[g].slot[i]].item<double>();
                    const auto before = roundGroups[g].pairs.size();
                    addMinedPairs(roundGroups[g], byItem, c.relevance_threshold,
                                  c.unjudged_rule == "negative" ? UnjudgedRule::Negative : UnjudgedRule::Skip,
                                  static_cast<std::size_t>(c.mined_pairs_per_query), counts);
                    for (std::size_t k = before; k < roundGroups[g].pairs.size(); ++k) {
                        const auto &p = roundGroups[g].pairs[k];
                        mined.push_back({g, p.better, p.worse, p.reason});
                    }
                }
            }
        } else {
            for (const auto &m : mined)
                roundGroups.at(m.at(0).get<std::size_t>())
                    .pairs.push_back({m.at(1).get<std::size_t>(), m.at(2).get<std::size_t>(), PreferenceSource::Mined,
                                      m.at(3).get<std::string>()});
        }
        std::vector<TrlPair> records;
        for (const auto &g : roundGroups)
            for (auto &p : toTrlPairs(g))
                records.push_back(std::move(p));
        fs::create_directories(out);
        writeTrlJsonl(out / ("preferences-round-" + std::to_string(r + 1) + ".jsonl"), records);
    }

    /// The batches of unit indices of (round, epoch), in a seeded order.
    std::vector<std::vector<std::size_t>> epochBatches(std::int64_t epoch) const
    {
        std::vector<std::size_t> units;
        if (method == AlignMethod::Dpo) {
            units.resize(pairsOf(roundGroups, train).size());
            std::iota(units.begin(), units.end(), std::size_t{0});
        } else {
            for (std::size_t g = 0; g < roundGroups.size(); ++g)
                if (hasTargets(targetsOf(roundGroups[g], train[g])))
                    units.push_back(g);
        }
        std::mt19937_64 rng(c.seed * 1000003ull + static_cast<std::uint64_t>(round) * 7919ull + static_cast<std::uint64_t>(epoch));
        std::shuffle(units.begin(), units.end(), rng);
        std::vector<std::vector<std::size_t>> planned;
        for (std::size_t i = 0; i < units.size(); i += static_cast<std::size_t>(c.per_device_train_batch_size))
            planned.emplace_back(units.begin() + static_cast<std::ptrdiff_t>(i),
                                 units.begin() + static_cast<std::ptrdiff_t>(std::min(units.size(), i + static_cast<std::size_t>(c.per_device_train_batch_size))));
        return planned;
    }

    struct StepMetrics {
        double loss = 0, reward = 0;
        std::vector<std::pair<std::string, double>> named;
    };

    /// DPO on a micro-batch of pairs; returns the loss (scaled by `share`, backward done).
    StepMetrics dpoMicroBatch(const std::vector<std::size_t> &units, double share)
    {
        const auto all = pairsOf(roundGroups, train);
        std::vector<const EncodedPair *> rows;
        std::vector<double> refChosen, refRejected;
        for (const auto u : units)
            rows.push_back(&train[all[u].group].rows[static_cast<std::size_t>(all[u].better)]);
        for (const auto u : units)
            rows.push_back(&train[all[u].group].rows[static_cast<std::size_t>(all[u].worse)]);
        for (const auto u : units) {
            refChosen.push_back(trainRef[all[u].group][all[u].better].item<double>());
            refRejected.push_back(trainRef[all[u].group][all[u].worse].item<double>());
        }
        auto batch = makeBatch(rows, *sm().prompt, true, policy.model()->device());
        const auto s = policy.margins(batch, encoder);
        const auto n = static_cast<std::int64_t>(units.size());
        const auto d = dpoLoss(s.slice(0, 0, n), s.slice(0, n), torch::tensor(refChosen), torch::tensor(refRejected), c.beta,
                               c.label_smoothing);
        (d.loss * share).backward();
        StepMetrics m;
        m.loss = d.loss.item<double>();
        const auto margins = d.chosenRewards - d.rejectedRewards;
        m.reward = margins.mean().item<double>();
        m.named = {{"rewards/chosen", d.chosenRewards.mean().item<double>()},
                   {"rewards/rejected", d.rejectedRewards.mean().item<double>()},
                   {"rewards/margins", m.reward},
                   {"rewards/accuracies", (margins > 0).to(torch::kFloat32).mean().item<double>()}};
        return m;
    }

    /// Samples a group of rankings for training group `g` from the current scores and keeps them with
    /// their rewards, advantages and the sampling and reference log-probabilities.
    GrpoSample &sampleGroup(std::size_t g, const torch::Tensor &scores, at::Generator &gen)
    {
        const auto targets = targetsOf(roundGroups[g], train[g]);
        GrpoSample sample;
        sample.rankings = plSample(scores.detach().to(torch::kCPU), c.num_generations, c.temperature, gen);
        std::vector<double> rewards;
        for (std::int64_t i = 0; i < sample.rankings.size(0); ++i) {
            const auto row = sample.rankings[i].contiguous();
            const std::vector<int> order(row.data_ptr<std::int64_t>(), row.data_ptr<std::int64_t>() + row.numel());
            const auto r = rankingReward(order, targets, c.reward_pair_weight, c.reward_ndcg_weight, static_cast<int>(c.reward_ndcg_depth));
            rewards.push_back(r.reward);
            sample.agreement += r.pairAgreement / double(sample.rankings.size(0));
            sample.ndcg += r.ndcg / double(sample.rankings.size(0));
        }
        sample.rewards = torch::tensor(rewards, torch::kDouble);
        sample.advantages = groupAdvantages(sample.rewards, c.scale_rewards).to(torch::kFloat32);
        const auto idx = sample.rankings.to(scores.device());
        sample.oldLogProbs = plStepLogProbs(scores.detach(), idx, c.temperature);
        sample.refLogProbs = plStepLogProbs(trainRef[g].to(scores.device()), idx, c.temperature);
        return grpoSamples[g] = std::move(sample);
    }

    /// PL-GRPO on a micro-batch of queries: on a batch's first iteration (`reuse` false) sample and
    /// reward each query's group of rankings; on later ones take the kept samples; then the clipped
    /// surrogate with KL on the current scores. Backward done.
    StepMetrics grpoMicroBatch(const std::vector<std::size_t> &units, double share, at::Generator &gen, bool reuse)
    {
        StepMetrics m;
        double rewardStd = 0, agreement = 0, ndcg = 0, kl = 0, clipped = 0;
        const double n = double(units.size());
        for (const auto g : units) {
            const auto scores = scoreRows(train[g]);
            const auto kept = reuse ? grpoSamples.find(g) : grpoSamples.end();
            // A batch resumed between its iterations has no kept samples: they are drawn again.
            auto &sample = kept != grpoSamples.end() ? kept->second : sampleGroup(g, scores, gen);
            const auto lp = plStepLogProbs(scores, sample.rankings.to(scores.device()), c.temperature);
            const auto loss = grpoLoss(lp, sample.oldLogProbs, sample.refLogProbs, sample.advantages, c.epsilon, c.beta);
            (loss.loss * (share / n)).backward();
            m.loss += loss.loss.item<double>() / n;
            m.reward += sample.rewards.mean().item<double>() / n;
            rewardStd += sample.rewards.std().item<double>() / n;
            agreement += sample.agreement / n;
            ndcg += sample.ndcg / n;
            kl += loss.kl / n;
            clipped += loss.clippedShare / n;
        }
        m.named = {{"reward", m.reward}, {"reward_std", rewardStd}, {"pair_agreement", agreement},
                   {"ndcg", ndcg},       {"kl", kl},                {"clip_ratio", clipped}};
        return m;
    }

    // TrainingStage

    void prepare(const fs::path &checkpoint) override
    {
        // The reference: the starting model's scores, before any update (and before loading a checkpoint).
        policy.setup(c, startAdapter);
        trainRef = scoreAll(train);
        valRef = scoreAll(val);
        reportRef = scoreAll(report);
        if (!checkpoint.empty())
            policy.setup(c, checkpoint);
        if (c.disable_dropout) // the reference's scores were taken without dropout; so are the policy's
            policy.disableAdapterDropout();
        sampler.set_current_seed(c.seed);
    }
    std::int64_t totalSteps() const override { return steps; }
    std::int64_t stepsPerEpoch() const override { return stepsPer; }
    bool endsEpoch(std::int64_t step) const override { return (step % stepsPerRound) % stepsPer == 0 || step % stepsPerRound == 0; }
    bool evaluates() const override { return true; }

    std::optional<StepOutput> accumulate(std::int64_t step, const std::function<bool()> &cancelled) override
    {
        const auto r = step / stepsPerRound;
        if (r != round || loadedEpoch < 0) {
            const bool fromCheckpoint = r == round && resumed && loadedEpoch < 0 && step % stepsPerRound != 0;
            startRound(r, fromCheckpoint);
            preferenceFiles.push_back(out / ("preferences-round-" + std::to_string(r + 1) + ".jsonl"));
            std::size_t pairs = 0;
            for (const auto &g : roundGroups)
                pairs += g.pairs.size();
            trainingPairs = pairs;
            if (log)
                log("round " + std::to_string(r + 1) + ": " + std::to_string(pairs) + " training pairs (" + std::to_string(mined.size()) +
                    " mined hard negatives)");
            loadedEpoch = -1;
        }
        const auto iterations = method == AlignMethod::PlGrpo ? c.num_iterations : 1;
        const auto inRound = step % stepsPerRound;
        const auto epoch = inRound / stepsPer;
        if (epoch != loadedEpoch) {
            batches = epochBatches(epoch);
            loadedEpoch = epoch;
        }
        const auto window = (inRound % stepsPer) / iterations;
        const auto iteration = (inRound % stepsPer) % iterations; // PL-GRPO: steps on one batch of samples
        if (iteration == 0)
            grpoSamples.clear();
        const auto first = static_cast<std::size_t>(window * c.gradient_accumulation_steps);
        const auto last = std::min(first + static_cast<std::size_t>(c.gradient_accumulation_steps), batches.size());
        std::size_t units = 0;
        for (auto b = first; b < last; ++b)
            units += batches[b].size();
        StepOutput result;
        double reward = 0;
        std::map<std::string, double> named;
        for (auto b = first; b < last; ++b) {
            if (cancelled && cancelled())
                return std::nullopt;
            const double share = double(batches[b].size()) / double(units);
            const auto mb = method == AlignMethod::Dpo ? dpoMicroBatch(batches[b], share) : grpoMicroBatch(batches[b], share, sampler, iteration > 0);
            result.loss += mb.loss * share;
            reward += mb.reward * share;
            for (const auto &[k, v] : mb.named)
                named[k] += v * share;
        }
        result.named.assign(named.begin(), named.end());
        if (std::isnan(rewardFirst))
            rewardFirst = reward;
        rewardLast = reward;
        return result;
    }

    /// Pair accuracy, KL and nDCG@10 of `groups` (the first `limit` only when limit > 0).
    AlignEvaluation evaluateOn(const std::vector<AlignGroup> &groups, const std::vector<EncodedGroup> &encoded,
                               const std::vector<torch::Tensor> &ref, std::size_t limit = 0)
    {
        AlignEvaluation e;
        const auto n = limit > 0 ? std::min(limit, encoded.size()) : encoded.size();
        const std::vector<EncodedGroup> used(encoded.begin(), encoded.begin() + static_cast<std::ptrdiff_t>(n));
        const std::vector<AlignGroup> usedGroups(groups.begin(), groups.begin() + static_cast<std::ptrdiff_t>(n));
        const auto scores = scoreAll(used);
        double correct = 0;
        for (const auto &p : pairsOf(usedGroups, used)) {
            const auto b = scores[p.group][p.better].item<double>(), w = scores[p.group][p.worse].item<double>();
            correct += b > w ? 1.0 : b == w ? 0.5 : 0.0;
            ++e.pairs;
        }
        e.pairAccuracy = e.pairs ? correct / double(e.pairs) : 0;
        auto gen = at::make_generator<at::CPUGeneratorImpl>(c.seed + 17);
        std::size_t klGroups = 0;
        eval::Qrels qrels;
        eval::Run run;
        for (std::size_t g = 0; g < n; ++g) {
            const auto query = std::to_string(g);
            for (std::size_t i = 0; i < groups[g].group.items.size(); ++i) {
                const auto &item = groups[g].group.items[i];
                if (item.grade >= 0)
                    qrels[query][item.candidateId] = item.grade;
                if (encoded[g].slot[i] >= 0)
                    run[query].emplace_back(item.candidateId, scores[g][encoded[g].slot[i]].item<double>());
            }
            if (scores[g].numel() < 2)
                continue;
            e.kl += plKl(scores[g], ref[g], c.kl_samples, gen);
            ++klGroups;
        }
        e.kl = klGroups ? e.kl / double(klGroups) : 0;
        // trec_eval's ndcg_cut_10 (eval/metrics.h) over the queries with a relevant graded candidate.
        for (auto it = qrels.begin(); it != qrels.end();)
            it = std::any_of(it->second.begin(), it->second.end(), [&](const auto &d) { return d.second >= c.relevance_threshold; })
                     ? std::next(it)
                     : qrels.erase(it);
        e.ndcg10 = qrels.empty() ? 0 : eval::evaluateRun(qrels, run, {c.relevance_threshold, false, {"ndcg_cut_10"}}).value("ndcg_cut_10");
        e.queries = n;
        return e;
    }

    /// The selection queries (the training queries when nothing is held out).
    AlignEvaluation evaluateSelection(std::size_t limit = 0)
    {
        return valGroups.empty() ? evaluateOn(trainGroups, train, trainRef, limit) : evaluateOn(valGroups, val, valRef, limit);
    }

    HeldOutEvaluation evaluate() override
    {
        latest = evaluateSelection();
        return {{{"val_pair_accuracy", latest.pairAccuracy}, {"val_kl", latest.kl}, {"val_ndcg_cut_10", latest.ndcg10}},
                latest.pairAccuracy,
                latest.kl};
    }

    double checkKl() override { return evaluateSelection(static_cast<std::size_t>(c.kl_check_queries)).kl; }

    void reportAt(std::int64_t step) override
    {
        (step == 0 ? start : best) = latest;
        if (!reportGroups.empty())
            (step == 0 ? reportStart : reportBest) = evaluateOn(reportGroups, report, reportRef);
    }

    void afterRollback() override { grpoSamples.clear(); }

    static nlohmann::json toJson(const AlignEvaluation &e)
    {
        return {{"pair_accuracy", e.pairAccuracy}, {"pairs", e.pairs}, {"kl", e.kl}, {"ndcg_cut_10", e.ndcg10}, {"queries", e.queries}};
    }
    static AlignEvaluation evaluationFrom(const nlohmann::json &j)
    {
        AlignEvaluation e;
        e.pairAccuracy = j.value("pair_accuracy", 0.0);
        e.pairs = j.value("pairs", std::size_t(0));
        e.kl = j.value("kl", 0.0);
        e.ndcg10 = j.value("ndcg_cut_10", 0.0);
        e.queries = j.value("queries", std::size_t(0));
        return e;
    }

    void saveState(nlohmann::json &state) const override
    {
        const auto num = [](double v) { return std::isnan(v) ? nlohmann::json() : nlohmann::json(v); };
        state["method"] = toString(method);
        state["round"] = round;
        state["mined_pairs"] = mined;
        state["reward_first"] = num(rewardFirst);
        state["reward_last"] = num(rewardLast);
        state["sampler_state"] = generatorStateHex(const_cast<at::Generator &>(sampler));
        state["selection_start"] = toJson(start);
        state["selection_best"] = toJson(best);
        state["report_start"] = toJson(reportStart);
        state["report_best"] = toJson(reportBest);
        state["config"] = c.toJson();
    }

    void restoreState(const nlohmann::json &state) override
    {
        if (state.value("method", "") != toString(method))
            throw InputError(out.string() + ": the checkpoint is from a " + state.value("method", std::string("different")) + " run, not " +
                             toString(method));
        round = state.value("round", std::int64_t(0));
        mined = state.value("mined_pairs", nlohmann::json::array());
        const auto num = [&](const char *key) {
            return state.contains(key) && !state[key].is_null() ? state[key].get<double>() : std::nan("");
        };
        rewardFirst = num("reward_first");
        rewardLast = num("reward_last");
        setGeneratorStateHex(sampler, state.at("sampler_state").get<std::string>());
        start = evaluationFrom(state.value("selection_start", nlohmann::json::object()));
        best = evaluationFrom(state.value("selection_best", nlohmann::json::object()));
        reportStart = evaluationFrom(state.value("report_start", nlohmann::json::object()));
        reportBest = evaluationFrom(state.value("report_best", nlohmann::json::object()));
        resumed = true;
    }
};

AlignTrainer::AlignTrainer(std::shared_ptr<scoring::ScoringModel> model, AlignMethod method, AlignConfig config,
                           std::vector<AlignGroup> train, std::vector<AlignGroup> validation, fs::path outputDir,
                           std::string baseModel, fs::path startAdapter, std::int64_t rounds)
    : m_state(std::make_unique<State>(std::move(model), method, std::move(config), std::move(train), std::move(validation),
                                      std::move(outputDir), std::move(baseModel), std::move(startAdapter), rounds))
{
    auto &s = *m_state;
    s.c.validate("alignment configuration");
    if (rounds < 1)
        throw InputError("--rounds must be at least 1");
    s.train = s.encodeAll(s.trainGroups);
    s.val = s.encodeAll(s.valGroups);
    s.report = s.encodeAll(s.reportGroups);
    s.roundGroups = s.trainGroups;
    s.round = 0;
    const auto units = s.unitCount();
    if (units == 0)
        throw InputError(std::string("no ") + (method == AlignMethod::Dpo ? "preference pair" : "query with preferences or relevant candidates") +
                         " to train on");
    const auto batches = (units + static_cast<std::size_t>(s.c.per_device_train_batch_size) - 1) /
                         static_cast<std::size_t>(s.c.per_device_train_batch_size);
    s.stepsPer = static_cast<std::int64_t>((batches + static_cast<std::size_t>(s.c.gradient_accumulation_steps) - 1) /
                                           static_cast<std::size_t>(s.c.gradient_accumulation_steps)) *
                 (method == AlignMethod::PlGrpo ? s.c.num_iterations : 1);
    s.stepsPerRound = s.c.max_steps > 0 ? s.c.max_steps : static_cast<std::int64_t>(std::ceil(s.c.num_train_epochs * double(s.stepsPer)));
    s.steps = s.stepsPerRound * rounds;
    if (s.c.eval_steps == 0) // ten evaluations per round: the checkpoint is chosen among them
        s.c.eval_steps = std::max<std::int64_t>(1, (s.stepsPerRound + 9) / 10);
}

AlignTrainer::~AlignTrainer() = default;

AlignEvaluation AlignTrainer::evaluate() { return m_state->evaluateSelection(); }

AlignResult AlignTrainer::run(bool resume, const TrainCallbacks &cb)
{
    auto &s = *m_state;
    AlignResult result;
    s.log = cb.onLog;
    s.resumed = false;
    s.loadedEpoch = -1;
    s.preferenceFiles.clear();
    if (cb.onLog)
        cb.onLog(std::string(toString(s.method)) + ": " + std::to_string(s.rounds) + " round(s) of " + std::to_string(s.stepsPerRound) +
                 " steps; " + std::to_string(s.valGroups.size()) + " selection and " + std::to_string(s.reportGroups.size()) +
                 " reporting queries");
    const KlGuard guard{s.c.max_kl, s.c.kl_target_share * s.c.max_kl, s.c.kl_check_steps};
    TrainingLoop loop(s.policy, s.c, s.out, guard);
    const auto r = loop.run(s, resume, cb);
    result.resumed = r.resumed;
    result.cancelled = r.cancelled;
    result.stoppedByKl = r.stoppedByKl;
    result.steps = r.steps;
    std::tie(result.rewardFirst, result.rewardLast) =
        firstAndLastMeans(r.history, s.method == AlignMethod::Dpo ? "rewards/margins" : "reward", s.rewardFirst, s.rewardLast);
    result.lossFirst = r.firstLoss;
    result.lossLast = r.lastLoss;
    result.lastCheckpoint = r.lastCheckpoint;
    result.before = s.start;
    result.final = s.latest;
    result.klRollbacks = r.klRollbacks;
    result.lrScale = r.lrScale;
    result.reportingQueries = s.reportGroups.size();
    result.reportBefore = s.reportStart;
    result.preferenceFiles = s.preferenceFiles;
    result.trainingPairs = s.trainingPairs;
    if (!r.published.empty()) {
        result.best = r.published;
        result.bestStep = r.bestStep;
        result.after = s.best;
        result.reportAfter = s.reportBest;
    } else {
        result.notPublished = r.notPublished;
    }
    return result;
}

} // namespace unirank::training
