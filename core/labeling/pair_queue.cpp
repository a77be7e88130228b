// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/labeling/pair_queue.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace unirank::labeling {

const char *toString(PairReason reason)
{
    switch (reason) {
    case PairReason::HardNegative: return "hard-negative";
    case PairReason::Uncertain: return "uncertain";
    case PairReason::Disagreement: return "disagreement";
    case PairReason::Random: return "random";
    case PairReason::Agreement: return "agreement";
    }
    return "random";
}

PairQueue::Key PairQueue::keyOf(const std::string &q, const std::string &a, const std::string &b)
{
    return a < b ? Key{q, a, b} : Key{q, b, a};
}

PairQueue::PairQueue(std::vector<QueueQuery> queries, PairQueueOptions options)
    : m_options(options), m_rng(options.seed)
{
    for (auto &q : queries) {
        auto &c = q.candidates;
        std::vector<std::size_t> order(c.size());
        std::iota(order.begin(), order.end(), 0);
        std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) { return c[x].score > c[y].score; });
        // Hard negatives: a non-relevant (by grade, or unjudged under that rule) above a relevant one.
        const auto negative = [&](const QueueCandidate &x) {
            return x.grade >= 0 ? x.grade < m_options.relevanceThreshold : m_options.unjudgedAsNegative;
        };
        for (std::size_t i = 0; i < order.size(); ++i)
            for (std::size_t j = i + 1; j < order.size(); ++j) {
                const auto &above = c[order[i]], &below = c[order[j]];
                if (negative(above) && below.grade >= m_options.relevanceThreshold)
                    m_pools[PairReason::HardNegative].push_back({q.id, below.id, above.id});
            }
        // Uncertain: neighbours in the model's order, closest scores first.
        std::vector<std::pair<double, Pair>> near;
        for (std::size_t i = 0; i + 1 < order.size(); ++i)
            near.push_back({std::abs(c[order[i]].score - c[order[i + 1]].score), {q.id, c[order[i]].id, c[order[i + 1]].id}});
        std::stable_sort(near.begin(), near.end(), [](const auto &x, const auto &y) { return x.first < y.first; });
        for (auto &[gap, p] : near)
            m_pools[PairReason::Uncertain].push_back(std::move(p));
        // Disagreements between the two versions; random: every pair.
        for (std::size_t i = 0; i < c.size(); ++i)
            for (std::size_t j = i + 1; j < c.size(); ++j) {
                if (c[i].otherScore && c[j].otherScore &&
                    (c[i].score - c[j].score) * (*c[i].otherScore - *c[j].otherScore) < 0)
                    m_pools[PairReason::Disagreement].push_back({q.id, c[i].id, c[j].id});
                m_pools[PairReason::Random].push_back({q.id, c[i].id, c[j].id});
            }
    }
    // Stable across pool orders but not in list order, so "random" means random.
    std::shuffle(m_pools[PairReason::Random].begin(), m_pools[PairReason::Random].end(), m_rng);
}

void PairQueue::markJudged(const std::string &annotator, const std::string &queryId, const std::string &a,
                           const std::string &b)
{
    const auto key = keyOf(queryId, a, b);
    m_judged[annotator].insert(key);
    m_judges[key].insert(annotator);
}

std::optional<QueuedPair> PairQueue::serve(const std::string &annotator, PairReason reason)
{
    const auto &done = m_judged[annotator];
    if (reason == PairReason::Agreement) {
        for (const auto &[key, judges] : m_judges)
            if (!done.contains(key) && !judges.empty() && !judges.contains(annotator)) {
                const auto &[q, a, b] = key;
                return QueuedPair{q, a, b, false, PairReason::Agreement};
            }
        return std::nullopt;
    }
    for (const auto &p : m_pools[reason])
        if (!done.contains(keyOf(p.queryId, p.a, p.b)))
            return QueuedPair{p.queryId, p.a, p.b, false, reason};
    return std::nullopt;
}

std::optional<QueuedPair> PairQueue::next(const std::string &annotator)
{
    std::uniform_real_distribution<double> u(0, 1);
    std::optional<QueuedPair> pair;
    if (u(m_rng) < m_options.agreementShare)
        pair = serve(annotator, PairReason::Agreement);
    if (!pair) {
        const std::vector<std::pair<PairReason, double>> weights{
            {PairReason::HardNegative, m_options.hardNegativeWeight},
            {PairReason::Uncertain, m_options.uncertainWeight},
            {PairReason::Disagreement, m_options.disagreementWeight},
            {PairReason::Random, m_options.randomWeight}};
        double total = 0;
        for (const auto &[r, w] : weights)
            total += std::max(0.0, w);
        double x = u(m_rng) * total;
        auto chosen = PairReason::Random;
        for (const auto &[r, w] : weights) {
            if (x < std::max(0.0, w)) {
                chosen = r;
                break;
            }
            x -= std::max(0.0, w);
        }
        pair = serve(annotator, chosen);
        for (const auto &[r, w] : weights) // the chosen pool is used up: fall back in weight order
            if (!pair)
                pair = serve(annotator, r);
    }
    if (!pair)
        return std::nullopt;
    if (std::bernoulli_distribution(0.5)(m_rng)) {
        std::swap(pair->left, pair->right);
        pair->shownSwapped = true;
    }
    return pair;
}

std::size_t PairQueue::poolSize(PairReason reason) const
{
    const auto it = m_pools.find(reason);
    return it == m_pools.end() ? 0 : it->second.size();
}

std::size_t PairQueue::judgedBy(const std::string &annotator) const
{
    const auto it = m_judged.find(annotator);
    return it == m_judged.end() ? 0 : it->second.size();
}

} // namespace unirank::labeling
