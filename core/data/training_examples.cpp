// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/data/training_examples.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

namespace unirank {

std::size_t TrainGroup::positives() const
{
    return static_cast<std::size_t>(std::count_if(items.begin(), items.end(), [](const TrainItem &i) { return i.label == 1; }));
}

void splitByQuery(const std::vector<TrainGroup> &groups, const SplitOptions &options, std::vector<TrainGroup> &train,
                  std::vector<TrainGroup> &validation)
{
    train.clear();
    validation.clear();
    std::vector<std::size_t> order(groups.size());
    std::iota(order.begin(), order.end(), 0);
    std::mt19937_64 rng(options.seed);
    std::shuffle(order.begin(), order.end(), rng);
    auto count = static_cast<std::size_t>(std::llround(options.validationShare * static_cast<double>(groups.size())));
    if (options.validationShare > 0 && count == 0 && groups.size() >= 2)
        count = 1;
    count = std::min(count, groups.size());
    std::vector<bool> isValidation(groups.size(), false);
    for (std::size_t i = 0; i < count; ++i)
        isValidation[order[i]] = true;
    for (std::size_t i = 0; i < groups.size(); ++i)
        (isValidation[i] ? validation : train).push_back(groups[i]);
}

HeldOutSplit splitHeldOut(const std::vector<std::string> &queryIds, double reportShare, std::uint64_t seed)
{
    const auto count = queryIds.size();
    std::vector<std::size_t> order(count);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](std::size_t a, std::size_t b) { return queryIds[a] < queryIds[b]; });
    std::mt19937_64 rng(seed ^ 0x5e1ec7ull);
    std::shuffle(order.begin(), order.end(), rng);
    auto reporting = static_cast<std::size_t>(std::llround(reportShare * static_cast<double>(count)));
    if (reportShare > 0 && reporting == 0 && count >= 2)
        reporting = 1;
    reporting = count == 0 ? 0 : std::min(reporting, count - 1);
    HeldOutSplit split;
    split.reporting.assign(order.begin(), order.begin() + static_cast<std::ptrdiff_t>(reporting));
    split.selection.assign(order.begin() + static_cast<std::ptrdiff_t>(reporting), order.end());
    std::sort(split.reporting.begin(), split.reporting.end());
    std::sort(split.selection.begin(), split.selection.end());
    return split;
}

std::vector<TrainGroup> balanceGroups(const std::vector<TrainGroup> &groups, const BalanceOptions &options)
{
    std::vector<TrainGroup> out;
    std::mt19937_64 rng(options.seed);
    for (const auto &g : groups) {
        std::vector<TrainItem> pos, neg;
        for (const auto &i : g.items)
            (i.label == 1 ? pos : neg).push_back(i);
        if (pos.empty() || neg.empty())
            continue;
        std::shuffle(pos.begin(), pos.end(), rng);
        // Graded negatives first, then preference-derived, then first-stage ones; random within each.
        std::shuffle(neg.begin(), neg.end(), rng);
        std::stable_sort(neg.begin(), neg.end(), [](const TrainItem &a, const TrainItem &b) { return a.source < b.source; });
        std::size_t keepPos = pos.size();
        if (options.maxPerQuery > 0)
            keepPos = std::min(keepPos, std::max<std::size_t>(1, options.maxPerQuery / 2));
        std::size_t keepNeg = neg.size();
        if (options.negativesPerPositive > 0)
            keepNeg = std::min(keepNeg, std::max<std::size_t>(1, static_cast<std::size_t>(std::ceil(
                                                                    options.negativesPerPositive * double(keepPos)))));
        if (options.maxPerQuery > 0)
            keepNeg = std::min(keepNeg, options.maxPerQuery - keepPos);
        TrainGroup kept{g.queryId, g.queryText, g.queryImage, g.queryImageHash, {}};
        kept.items.assign(pos.begin(), pos.begin() + static_cast<std::ptrdiff_t>(keepPos));
        kept.items.insert(kept.items.end(), neg.begin(), neg.begin() + static_cast<std::ptrdiff_t>(keepNeg));
        out.push_back(std::move(kept));
    }
    return out;
}

} // namespace unirank
