// SPDX-License-Identifier: GPL-3.0-or-later
// Comparing runs query by query: the paired randomisation (Fisher) test on the mean difference of a
// metric (each query's difference keeps or flips its sign at random; two-sided p with the +1
// correction), a percentile bootstrap confidence interval of the mean difference (queries resampled
// with replacement), and Holm's step-down correction when several runs are compared. A fixed seed makes
// every p-value and interval reproducible. Pure functions, thread-safe. Errors: InputError for vectors
// of different lengths.
#pragma once

#include <cstdint>
#include <utility>
#include <vector>

namespace unirank::eval {

struct PairedComparison {
    double meanDifference = 0; ///< mean(b - a)
    double pValue = 1;         ///< randomisation test, two-sided
    double ciLower = 0, ciUpper = 0;
    double holmP = 1;          ///< filled by holmCorrect()
};

PairedComparison comparePaired(const std::vector<double> &a, const std::vector<double> &b, std::uint64_t seed = 20261127,
                               int permutations = 10000, int bootstrapSamples = 10000, double confidence = 0.95);

/// Holm-adjusted p-values, in the input order.
std::vector<double> holm(const std::vector<double> &pValues);

} // namespace unirank::eval
