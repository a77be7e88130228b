// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/eval/significance.h"

#include "core/util/error.h"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <random>

namespace unirank::eval {

PairedComparison comparePaired(const std::vector<double> &a, const std::vector<double> &b, std::uint64_t seed,
                               int permutations, int bootstrapSamples, double confidence)
{
    if (a.size() != b.size())
        throw InputError("paired comparison needs the same queries in both runs");
    PairedComparison out;
    const auto n = a.size();
    if (n == 0)
        return out;
    std::vector<double> d(n);
    for (std::size_t i = 0; i < n; ++i)
        d[i] = b[i] - a[i];
    const double observed = std::accumulate(d.begin(), d.end(), 0.0) / static_cast<double>(n);
    out.meanDifference = observed;
    std::mt19937_64 rng(seed);
    std::bernoulli_distribution flip(0.5);
    int extreme = 0;
    const double eps = 1e-12 * std::max(1.0, std::abs(observed));
    for (int p = 0; p < permutations; ++p) {
        double s = 0;
        for (const auto x : d)
            s += flip(rng) ? -x : x;
        if (std::abs(s / static_cast<double>(n)) >= std::abs(observed) - eps)
            ++extreme;
    }
    out.pValue = (extreme + 1.0) / (permutations + 1.0);
    std::uniform_int_distribution<std::size_t> pick(0, n - 1);
    std::vector<double> means(static_cast<std::size_t>(bootstrapSamples));
    for (auto &m : means) {
        double s = 0;
        for (std::size_t i = 0; i < n; ++i)
            s += d[pick(rng)];
        m = s / static_cast<double>(n);
    }
    std::sort(means.begin(), means.end());
    const double alpha = (1 - confidence) / 2;
    const auto at = [&](double q) {
        const auto idx = static_cast<std::size_t>(std::clamp(q * static_cast<double>(means.size() - 1), 0.0,
                                                             static_cast<double>(means.size() - 1)));
        return means[idx];
    };
    out.ciLower = at(alpha);
    out.ciUpper = at(1 - alpha);
    out.holmP = out.pValue;
    return out;
}

std::vector<double> holm(const std::vector<double> &p)
{
    const auto m = p.size();
    std::vector<std::size_t> order(m);
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) { return p[x] < p[y]; });
    std::vector<double> out(m);
    double running = 0;
    for (std::size_t r = 0; r < m; ++r) {
        running = std::max(running, std::min(1.0, static_cast<double>(m - r) * p[order[r]]));
        out[order[r]] = running;
    }
    return out;
}

} // namespace unirank::eval
