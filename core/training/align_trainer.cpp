// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/training/align_trainer.h"

#include "core/model/autocast.h"
#include "core/training/alignment_objective.h"
#include "core/training/checkpoints.h"
#include "core/training/lr_schedule.h"
#include "core/training/plackett_luce.h"
#include "core/training/trainable_policy.h"

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

struct AlignTrainer::State {
    AlignMethod method;
    AlignConfig c;
    std::vector<AlignGroup> trainGroups, valGroups;
    fs::path out, startAdapter;
    std::int64_t rounds;
    PairEncoder encoder;
    TrainablePolicy policy;
    std::unique_ptr<torch::optim::AdamW> optimizer;
    std::vector<EncodedGroup> train, val;
    std::vector<torch::Tensor> trainRef, valRef; ///< reference scores per group, [rows]
    std::vector<AlignGroup> roundGroups;          ///< training groups with this round's mined pairs
    std::int64_t round = -1;
    nlohmann::json mined = nlohmann::json::array(); ///< this round's mined pairs [group, better, worse, reason]

    std::int64_t step = 0, stepsPerEpoch = 0, stepsPerRound = 0, totalSteps = 0;
    double bestMetric = -1;
    std::int64_t bestStep = -1;
    double rewardFirst = std::nan(""), rewardLast = std::nan(""), lossFirst = std::nan(""), lossLast = std::nan("");
    nlohmann::json history = nlohmann::json::array();
    at::Generator sampler = at::make_generator<at::CPUGeneratorImpl>(0); ///< PL-GRPO's rankings

    /// PL-GRPO's group of rankings for one query, sampled once per batch and kept for the batch's
    /// num_iterations optimizer steps (TRL's semantics): the ratio is taken against the sampling
    /// policy's log-probabilities, so it leaves 1 after the first step and epsilon clips.
    struct GrpoSample {
        torch::Tensor rankings, advantages, oldLogProbs, refLogProbs, rewards;
        double agreement = 0, ndcg = 0; ///< means over the group
    };
    std::map<std::size_t, GrpoSample> grpoSamples; ///< by training group, for the current batch

    State(std::shared_ptr<scoring::ScoringModel> m, AlignMethod me, AlignConfig config, std::vector<AlignGroup> t,
          std::vector<AlignGroup> v, fs::path o, std::string base, fs::path start, std::int64_t r)
        : method(me), c(std::move(config)), trainGroups(std::move(t)), valGroups(std::move(v)), out(std::move(o)),
          startAdapter(std::move(start)), rounds(r), encoder(m), policy(m, std::move(base))
    {
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
        std::vector<std::vector<std::size_t>> batches;
        for (std::size_t i = 0; i < units.size(); i += static_cast<std::size_t>(c.per_device_train_batch_size))
            batches.emplace_back(units.begin() + static_cast<std::ptrdiff_t>(i),
                                 units.begin() + static_cast<std::ptrdiff_t>(std::min(units.size(), i + static_cast<std::size_t>(c.per_device_train_batch_size))));
        return batches;
    }

    double learningRate() const
    {
        return c.learning_rate * scheduleFactor(c.lr_scheduler_type, step, totalSteps,
                                                static_cast<std::int64_t>(std::ceil(c.warmup_ratio * double(totalSteps))));
    }

    void saveCheckpoint()
    {
        const auto num = [](double v) { return std::isnan(v) ? nlohmann::json() : nlohmann::json(v); };
        const nlohmann::json state{{"global_step", step},
                                   {"total_steps", totalSteps},
                                   {"method", toString(method)},
                                   {"round", round},
                                   {"mined_pairs", mined},
                                   {"best_metric", bestMetric},
                                   {"best_step", bestStep},
                                   {"reward_first", num(rewardFirst)},
                                   {"reward_last", num(rewardLast)},
                                   {"loss_first", num(lossFirst)},
                                   {"loss_last", num(lossLast)},
                                   {"rng_state", cpuRngStateHex()},
                                   {"sampler_state", generatorStateHex(sampler)},
                                   {"log_history", history},
                                   {"config", c.toJson()}};
        writeCheckpoint(out, step, [&](const fs::path &staging) { policy.writeModelFiles(staging); }, *optimizer, state);
        pruneCheckpoints(out, static_cast<std::size_t>(c.save_total_limit), bestStep);
    }

    void restore(const fs::path &dir)
    {
        const auto state = readCheckpoint(dir, *optimizer);
        if (state.value("method", "") != toString(method))
            throw InputError(dir.string() + ": the checkpoint is from a " + state.value("method", std::string("different")) +
                             " run, not " + toString(method));
        step = state.at("global_step").get<std::int64_t>();
        round = state.value("round", std::int64_t(0));
        mined = state.value("mined_pairs", nlohmann::json::array());
        bestMetric = state.value("best_metric", -1.0);
        bestStep = state.value("best_step", std::int64_t(-1));
        const auto num = [&](const char *key) {
            return state.contains(key) && !state[key].is_null() ? state[key].get<double>() : std::nan("");
        };
        rewardFirst = num("reward_first");
        rewardLast = num("reward_last");
        lossFirst = num("loss_first");
        lossLast = num("loss_last");
        history = state.value("log_history", nlohmann::json::array());
        setCpuRngStateHex(state.at("rng_state").get<std::string>());
        setGeneratorStateHex(sampler, state.at("sampler_state").get<std::string>());
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
    s.roundGroups = s.trainGroups;
    s.round = 0;
    const auto units = s.unitCount();
    if (units == 0)
        throw InputError(std::string("no ") + (method == AlignMethod::Dpo ? "preference pair" : "query with preferences or relevant candidates") +
                         " to train on");
    const auto batches = (units + static_cast<std::size_t>(s.c.per_device_train_batch_size) - 1) /
                         static_cast<std::size_t>(s.c.per_device_train_batch_size);
    s.stepsPerEpoch = static_cast<std::int64_t>((batches + static_cast<std::size_t>(s.c.gradient_accumulation_steps) - 1) /
                                                static_cast<std::size_t>(s.c.gradient_accumulation_steps)) *
                      (method == AlignMethod::PlGrpo ? s.c.num_iterations : 1);
    s.stepsPerRound = s.c.max_steps > 0 ? s.c.max_steps : static_cast<std::int64_t>(std::ceil(s.c.num_train_epochs * double(s.stepsPerEpoch)));
    s.totalSteps = s.stepsPerRound * rounds;
}

AlignTrainer::~AlignTrainer() = default;

AlignEvaluation AlignTrainer::evaluate()
{
    auto &s = *m_state;
    AlignEvaluation e;
    const bool held = !s.valGroups.empty();
    const auto &groups = held ? s.valGroups : s.trainGroups;
    const auto &encoded = held ? s.val : s.train;
    const auto &ref = held ? s.valRef : s.trainRef;
    const auto scores = s.scoreAll(encoded);
    double correct = 0;
    for (const auto &p : State::pairsOf(groups, encoded)) {
        const auto b = scores[p.group][p.better].item<double>(), w = scores[p.group][p.worse].item<double>();
        correct += b > w ? 1.0 : b == w ? 0.5 : 0.0;
        ++e.pairs;
    }
    e.pairAccuracy = e.pairs ? correct / double(e.pairs) : 0;
    auto gen = at::make_generator<at::CPUGeneratorImpl>(s.c.seed + 17);
    std::size_t klGroups = 0, ndcgGroups = 0;
    for (std::size_t g = 0; g < encoded.size(); ++g) {
        if (scores[g].numel() < 2)
            continue;
        e.kl += plKl(scores[g], ref[g], s.c.kl_samples, gen);
        ++klGroups;
        const auto targets = State::targetsOf(groups[g], encoded[g]);
        if (std::any_of(targets.grades.begin(), targets.grades.end(), [](int x) { return x > 0; })) {
            const auto order = std::get<1>(scores[g].sort(0, true)).contiguous();
            const std::vector<int> ranking(order.data_ptr<std::int64_t>(), order.data_ptr<std::int64_t>() + order.numel());
            e.ndcg10 += rankingReward(ranking, {{}, targets.grades}, 0, 1, 10).ndcg;
            ++ndcgGroups;
        }
    }
    e.kl = klGroups ? e.kl / double(klGroups) : 0;
    e.ndcg10 = ndcgGroups ? e.ndcg10 / double(ndcgGroups) : 0;
    return e;
}

AlignResult AlignTrainer::run(bool resume, const TrainCallbacks &cb)
{
    auto &s = *m_state;
    AlignResult result;
    const auto log = [&](const std::string &line) {
        if (cb.onLog)
            cb.onLog(line);
    };
    // The reference: the starting model's scores, before any update (and before loading a checkpoint).
    s.policy.setup(s.c, s.startAdapter);
    s.trainRef = s.scoreAll(s.train);
    s.valRef = s.scoreAll(s.val);
    const auto from = resume ? latestCheckpoint(s.out) : fs::path();
    if (!from.empty())
        s.policy.setup(s.c, from);
    if (s.c.disable_dropout) // the reference's scores were taken without dropout; so are the policy's
        s.policy.disableAdapterDropout();
    s.sampler.set_current_seed(s.c.seed);
    s.optimizer = std::make_unique<torch::optim::AdamW>(s.policy.parameters(), torch::optim::AdamWOptions(s.c.learning_rate)
                                                                                   .betas(std::make_tuple(s.c.adam_beta1, s.c.adam_beta2))
                                                                                   .eps(s.c.adam_epsilon)
                                                                                   .weight_decay(s.c.weight_decay));
    if (!from.empty()) {
        s.restore(from);
        result.resumed = true;
        log("resumed from " + from.string() + " at step " + std::to_string(s.step));
    }
    auto &m = s.policy.model();
    model::AutocastBf16 autocast(s.c.bf16, m->device());
    result.before = from.empty() ? evaluate() : AlignEvaluation{};
    if (s.step == 0) {
        s.history.push_back({{"step", 0}, {"val_pair_accuracy", result.before.pairAccuracy}, {"kl", result.before.kl}});
        if (cb.onMetrics)
            cb.onMetrics(0, {{"val_pair_accuracy", result.before.pairAccuracy}, {"val_kl", result.before.kl}, {"val_ndcg_cut_10", result.before.ndcg10}});
    } else {
        for (const auto &h : s.history)
            if (h.value("step", std::int64_t(-1)) == 0 && h.contains("val_pair_accuracy"))
                result.before.pairAccuracy = h["val_pair_accuracy"].get<double>();
    }
    log(std::string(toString(s.method)) + ": " + std::to_string(s.rounds) + " round(s) of " + std::to_string(s.stepsPerRound) +
        " steps; held-out pair accuracy " + std::to_string(result.before.pairAccuracy) + " on " + std::to_string(result.before.pairs) + " pairs");

    const auto started = std::chrono::steady_clock::now();
    const auto startStep = s.step;
    std::int64_t loadedEpoch = -1;
    std::vector<std::vector<std::size_t>> batches;
    bool savedAtStep = false;
    const auto iterations = s.method == AlignMethod::PlGrpo ? s.c.num_iterations : 1;
    while (s.step < s.totalSteps) {
        const auto round = s.step / s.stepsPerRound;
        if (round != s.round || loadedEpoch < 0) {
            const bool fromCheckpoint = round == s.round && result.resumed && loadedEpoch < 0 && s.step % s.stepsPerRound != 0;
            s.startRound(round, fromCheckpoint);
            result.preferenceFiles.push_back(s.out / ("preferences-round-" + std::to_string(round + 1) + ".jsonl"));
            std::size_t pairs = 0;
            for (const auto &g : s.roundGroups)
                pairs += g.pairs.size();
            result.trainingPairs = pairs;
            log("round " + std::to_string(round + 1) + ": " + std::to_string(pairs) + " training pairs (" + std::to_string(s.mined.size()) +
                " mined hard negatives)");
            loadedEpoch = -1;
        }
        const auto inRound = s.step % s.stepsPerRound;
        const auto epoch = inRound / s.stepsPerEpoch;
        if (epoch != loadedEpoch) {
            batches = s.epochBatches(epoch);
            loadedEpoch = epoch;
        }
        const auto window = (inRound % s.stepsPerEpoch) / iterations;
        const auto iteration = (inRound % s.stepsPerEpoch) % iterations; // PL-GRPO: steps on one batch of samples
        if (iteration == 0)
            s.grpoSamples.clear();
        s.optimizer->zero_grad();
        const auto first = static_cast<std::size_t>(window * s.c.gradient_accumulation_steps);
        const auto last = std::min(first + static_cast<std::size_t>(s.c.gradient_accumulation_steps), batches.size());
        std::size_t units = 0;
        for (auto b = first; b < last; ++b)
            units += batches[b].size();
        State::StepMetrics total;
        std::map<std::string, double> named;
        bool cancelled = false;
        for (auto b = first; b < last; ++b) {
            if (cb.cancelled && cb.cancelled()) {
                cancelled = true;
                break;
            }
            const double share = double(batches[b].size()) / double(units);
            const auto mb = s.method == AlignMethod::Dpo ? s.dpoMicroBatch(batches[b], share) : s.grpoMicroBatch(batches[b], share, s.sampler, iteration > 0);
            total.loss += mb.loss * share;
            total.reward += mb.reward * share;
            for (const auto &[k, v] : mb.named)
                named[k] += v * share;
        }
        if (cancelled) {
            s.optimizer->zero_grad();
            result.cancelled = true;
            break;
        }
        double gradNorm = 0;
        if (s.c.max_grad_norm > 0)
            gradNorm = torch::nn::utils::clip_grad_norm_(s.policy.parameters(), s.c.max_grad_norm);
        const auto lr = s.learningRate();
        for (auto &group : s.optimizer->param_groups())
            static_cast<torch::optim::AdamWOptions &>(group.options()).lr(lr);
        s.optimizer->step();
        ++s.step;
        savedAtStep = false;
        if (std::isnan(s.rewardFirst)) {
            s.rewardFirst = total.reward;
            s.lossFirst = total.loss;
        }
        s.rewardLast = total.reward;
        s.lossLast = total.loss;
        const auto elapsed = std::chrono::duration<double>(std::chrono::steady_clock::now() - started).count();
        TrainProgress progress{s.step, s.totalSteps, double(s.step) / double(s.stepsPerEpoch), total.loss, lr, gradNorm, elapsed,
                               elapsed / double(s.step - startStep) * double(s.totalSteps - s.step)};
        if (cb.onProgress)
            cb.onProgress(progress);
        if (s.step % s.c.logging_steps == 0 || s.step == s.totalSteps) {
            std::vector<std::pair<std::string, double>> metrics{{"loss", total.loss}, {"learning_rate", lr}, {"grad_norm", gradNorm}};
            nlohmann::json h{{"step", s.step}, {"loss", total.loss}, {"learning_rate", lr}, {"grad_norm", gradNorm}};
            for (const auto &[k, v] : named) {
                metrics.emplace_back(k, v);
                h[k] = v;
            }
            s.history.push_back(h);
            if (cb.onMetrics)
                cb.onMetrics(s.step, metrics);
        }
        const bool epochEnd = (s.step % s.stepsPerRound) % s.stepsPerEpoch == 0 || s.step % s.stepsPerRound == 0;
        const bool evaluateNow = s.c.eval_steps > 0 ? s.step % s.c.eval_steps == 0 || s.step == s.totalSteps : epochEnd;
        bool save = s.c.save_steps > 0 ? s.step % s.c.save_steps == 0 || s.step == s.totalSteps : epochEnd;
        bool stop = false;
        if (evaluateNow) {
            const auto e = evaluate();
            s.history.push_back({{"step", s.step}, {"val_pair_accuracy", e.pairAccuracy}, {"kl", e.kl}, {"val_ndcg_cut_10", e.ndcg10}});
            if (cb.onMetrics)
                cb.onMetrics(s.step, {{"val_pair_accuracy", e.pairAccuracy}, {"val_kl", e.kl}, {"val_ndcg_cut_10", e.ndcg10}});
            log("step " + std::to_string(s.step) + ": held-out pair accuracy " + std::to_string(e.pairAccuracy) + ", KL " +
                std::to_string(e.kl));
            result.final = e;
            if (e.kl > s.c.max_kl) {
                stop = true;
                result.stoppedByKl = true;
                log("KL " + std::to_string(e.kl) + " is above max_kl " + std::to_string(s.c.max_kl) + ": the run stops here");
            } else if (e.pairAccuracy > s.bestMetric) {
                s.bestMetric = e.pairAccuracy;
                s.bestStep = s.step;
                save = true;
            }
        }
        if (save || stop) {
            s.saveCheckpoint();
            savedAtStep = true;
        }
        if (stop)
            break;
    }
    if (!savedAtStep && s.step > 0 && !fs::exists(checkpointDir(s.out, s.step)))
        s.saveCheckpoint();
    result.steps = s.step;
    std::tie(result.rewardFirst, result.rewardLast) =
        firstAndLastMeans(s.history, s.method == AlignMethod::Dpo ? "rewards/margins" : "reward", s.rewardFirst, s.rewardLast);
    result.lossFirst = s.lossFirst;
    result.lossLast = s.lossLast;
    result.lastCheckpoint = checkpointDir(s.out, s.step);
    result.bestStep = s.bestStep;
    // Without an evaluation inside the KL bound there is nothing to publish: the start stays the best.
    const auto bestDir = checkpointDir(s.out, s.bestStep >= 0 ? s.bestStep : s.step);
    if (!result.cancelled && !(s.bestStep < 0 && result.stoppedByKl) && fs::exists(bestDir)) {
        result.best = publishBest(s.out, bestDir);
        result.after = result.final;
        if (s.bestStep >= 0) {
            for (const auto &h : s.history)
                if (h.value("step", std::int64_t(-1)) == s.bestStep && h.contains("val_pair_accuracy")) {
                    result.after.pairAccuracy = h["val_pair_accuracy"].get<double>();
                    result.after.kl = h["kl"].get<double>();
                    result.after.ndcg10 = h.value("val_ndcg_cut_10", 0.0);
                }
        }
    }
    return result;
}

} // namespace unirank::training
