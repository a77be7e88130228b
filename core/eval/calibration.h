// SPDX-License-Identifier: GPL-3.0-or-later
// Calibration of the scorer's probability against binary labels (grade >= relevance level):
// expected calibration error over equal-width bins with the reliability table, and temperature
// fitting: T minimising the negative log-likelihood of sigmoid(margin / T), fitted on one split and
// applied to another. Pure functions, thread-safe. Errors: InputError for empty or mismatched input.
#pragma once

#include <cstddef>
#include <vector>

namespace unirank::eval {

struct ReliabilityBin {
    double lower = 0, upper = 0;
    std::size_t count = 0;
    double meanConfidence = 0; ///< mean predicted probability in the bin
    double accuracy = 0;       ///< fraction of positives in the bin
};

struct Calibration {
    double ece = 0; ///< sum over bins of count/N * |accuracy - confidence|
    double nll = 0; ///< mean negative log-likelihood
    std::vector<ReliabilityBin> bins;
};

Calibration calibration(const std::vector<double> &probabilities, const std::vector<int> &labels, int bins = 10);

/// The temperature (in [1e-2, 1e2]) minimising the NLL of sigmoid(margin / T) on these labels.
double fitTemperature(const std::vector<double> &margins, const std::vector<int> &labels);

std::vector<double> applyTemperature(const std::vector<double> &margins, double temperature);

} // namespace unirank::eval
