// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/eval/calibration.h"

#include "core/util/error.h"

#include <algorithm>
#include <cmath>

namespace unirank::eval {
namespace {

double sigmoid(double x)
{
    return x >= 0 ? 1.0 / (1.0 + std::exp(-x)) : std::exp(x) / (1.0 + std::exp(x));
}

/// -log sigmoid(z) for y = 1, -log(1 - sigmoid(z)) for y = 0, computed stably.
double nllOf(double z, int y)
{
    const double s = y ? -z : z; // -log sigmoid(-s) = log(1 + exp(s))
    return s > 0 ? s + std::log1p(std::exp(-s)) : std::log1p(std::exp(s));
}

void check(std::size_t a, std::size_t b)
{
    if (a == 0 || a != b)
        throw InputError("calibration needs as many labels as scores, and at least one");
}

} // namespace

Calibration calibration(const std::vector<double> &p, const std::vector<int> &labels, int bins)
{
    check(p.size(), labels.size());
    if (bins < 1)
        throw InputError("calibration needs at least one bin");
    Calibration c;
    c.bins.resize(static_cast<std::size_t>(bins));
    for (int b = 0; b < bins; ++b) {
        c.bins[static_cast<std::size_t>(b)].lower = static_cast<double>(b) / bins;
        c.bins[static_cast<std::size_t>(b)].upper = static_cast<double>(b + 1) / bins;
    }
    for (std::size_t i = 0; i < p.size(); ++i) {
        const auto b = std::min(bins - 1, static_cast<int>(std::floor(std::clamp(p[i], 0.0, 1.0) * bins)));
        auto &bin = c.bins[static_cast<std::size_t>(b)];
        ++bin.count;
        bin.meanConfidence += p[i];
        bin.accuracy += labels[i] ? 1.0 : 0.0;
        const double q = std::clamp(p[i], 1e-12, 1 - 1e-12);
        c.nll -= labels[i] ? std::log(q) : std::log(1 - q);
    }
    for (auto &bin : c.bins)
        if (bin.count) {
            bin.meanConfidence /= static_cast<double>(bin.count);
            bin.accuracy /= static_cast<double>(bin.count);
            c.ece += static_cast<double>(bin.count) / static_cast<double>(p.size()) * std::abs(bin.accuracy - bin.meanConfidence);
        }
    c.nll /= static_cast<double>(p.size());
    return c;
}

double fitTemperature(const std::vector<double> &margins, const std::vector<int> &labels)
{
    check(margins.size(), labels.size());
    const auto loss = [&](double logT) {
        const double t = std::exp(logT);
        double s = 0;
        for (std::size_t i = 0; i < margins.size(); ++i)
            s += nllOf(margins[i] / t, labels[i]);
        return s;
    };
    // The NLL is unimodal in log T for this one-parameter family: golden-section search.
    double a = std::log(1e-2), b = std::log(1e2);
    const double g = (std::sqrt(5.0) - 1) / 2;
    double c = b - g * (b - a), d = a + g * (b - a);
    double fc = loss(c), fd = loss(d);
    for (int i = 0; i < 200 && b - a > 1e-10; ++i) {
        if (fc < fd) {
            b = d;
            d = c;
            fd = fc;
            c = b - g * (b - a);
            fc = loss(c);
        } else {
            a = c;
            c = d;
            fc = fd;
            d = a + g * (b - a);
            fd = loss(d);
        }
    }
    return std::exp((a + b) / 2);
}

std::vector<double> applyTemperature(const std::vector<double> &margins, double temperature)
{
    if (!(temperature > 0))
        throw InputError("the temperature must be positive");
    std::vector<double> out;
    out.reserve(margins.size());
    for (const auto m : margins)
        out.push_back(sigmoid(m / temperature));
    return out;
}

} // namespace unirank::eval
