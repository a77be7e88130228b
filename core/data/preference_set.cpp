// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/data/preference_set.h"

#include <algorithm>
#include <numeric>
#include <set>

namespace unirank {
namespace {

/// Adds a pair unless the group already relates the two items (in either direction).
bool addPair(AlignGroup &group, PreferencePair pair, PreferenceCounts &counts)
{
    for (const auto &p : group.pairs)
        if ((p.better == pair.better && p.worse == pair.worse) || (p.better == pair.worse && p.worse == pair.better)) {
            ++counts.overridden;
            return false;
        }
    ++counts.added[toString(pair.source)];
    group.pairs.push_back(std::move(pair));
    return true;
}

} // namespace

const char *toString(PreferenceSource source)
{
    switch (source) {
    case PreferenceSource::Human:
        return "human";
    case PreferenceSource::Derived:
        return "derived";
    case PreferenceSource::Mined:
        return "mined";
    }
    return "human";
}

void addHumanPairs(AlignGroup &group, const std::vector<HumanVote> &votes, PreferenceCounts &counts)
{
    std::map<std::string, std::size_t> index;
    for (std::size_t i = 0; i < group.group.items.size(); ++i)
        index.emplace(group.group.items[i].candidateId, i);
    // Per unordered pair (low index, high index): votes for low and for high.
    std::map<std::pair<std::size_t, std::size_t>, std::pair<int, int>> tally;
    for (const auto &v : votes) {
        const auto b = index.find(v.better), w = index.find(v.worse);
        if (b == index.end() || w == index.end() || b->second == w->second) {
            ++counts.unknownCandidates;
            continue;
        }
        const auto key = std::minmax(b->second, w->second);
        auto &t = tally[{key.first, key.second}];
        (b->second == key.first ? t.first : t.second)++;
    }
    for (const auto &[key, t] : tally) {
        if (t.first == t.second) {
            ++counts.annotatorConflicts;
            continue;
        }
        const bool lowWins = t.first > t.second;
        const auto votesFor = std::max(t.first, t.second), against = std::min(t.first, t.second);
        addPair(group,
                {lowWins ? key.first : key.second, lowWins ? key.second : key.first, PreferenceSource::Human,
                 std::to_string(votesFor) + " of " + std::to_string(votesFor + against) + " annotator votes"},
                counts);
    }
}

void addDerivedPairs(AlignGroup &group, std::size_t cap, PreferenceCounts &counts)
{
    const auto &items = group.group.items;
    std::vector<std::pair<std::size_t, std::size_t>> pairs;
    for (std::size_t i = 0; i < items.size(); ++i)
        for (std::size_t j = 0; j < items.size(); ++j)
            if (items[i].grade >= 0 && items[j].grade >= 0 && items[i].grade > items[j].grade)
                pairs.emplace_back(i, j);
    // Widest gaps first; stable, so list order breaks ties.
    std::stable_sort(pairs.begin(), pairs.end(), [&](const auto &a, const auto &b) {
        return items[a.first].grade - items[a.second].grade > items[b.first].grade - items[b.second].grade;
    });
    std::size_t added = 0;
    for (const auto &[i, j] : pairs) {
        if (cap > 0 && added >= cap)
            break;
        added += addPair(group,
                         {i, j, PreferenceSource::Derived,
                          "grade " + std::to_string(items[i].grade) + " over " + std::to_string(items[j].grade)},
                         counts);
    }
}

void addMinedPairs(AlignGroup &group, const std::vector<double> &scores, int relevanceThreshold, UnjudgedRule rule,
                   std::size_t cap, PreferenceCounts &counts)
{
    const auto &items = group.group.items;
    std::vector<std::size_t> order(items.size());
    std::iota(order.begin(), order.end(), std::size_t{0});
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return scores.at(a) > scores.at(b); });
    std::vector<std::size_t> rank(items.size());
    for (std::size_t r = 0; r < order.size(); ++r)
        rank[order[r]] = r;
    const auto negative = [&](const TrainItem &t) {
        return t.grade >= 0 ? t.grade < relevanceThreshold : rule == UnjudgedRule::Negative;
    };
    std::size_t added = 0;
    for (std::size_t r = 0; r < order.size() && (cap == 0 || added < cap); ++r) {
        const auto n = order[r];
        if (!negative(items[n]))
            continue;
        // Pair the negative with the highest-ranked relevant item below it.
        for (std::size_t below = r + 1; below < order.size(); ++below) {
            const auto p = order[below];
            if (items[p].grade < relevanceThreshold)
                continue;
            added += addPair(group,
                             {p, n, PreferenceSource::Mined,
                              std::string(items[n].grade >= 0 ? "judged non-relevant" : "unjudged") + " at rank " +
                                  std::to_string(rank[n] + 1) + " above relevant at rank " + std::to_string(rank[p] + 1)},
                             counts);
            break;
        }
    }
}

std::vector<TrlPair> toTrlPairs(const AlignGroup &group)
{
    const auto &g = group.group;
    std::vector<TrlPair> out;
    for (const auto &p : group.pairs) {
        const auto &b = g.items[p.better], &w = g.items[p.worse];
        out.push_back({g.queryText, g.queryImage.string(), b.text, b.image.string(), w.text, w.image.string(), g.queryId,
                       b.candidateId, w.candidateId, toString(p.source), "", p.reason});
    }
    return out;
}

} // namespace unirank
