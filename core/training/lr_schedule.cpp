// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/training/lr_schedule.h"

#include <algorithm>
#include <cmath>
#include <numbers>

namespace unirank::training {

double scheduleFactor(const std::string &type, std::int64_t step, std::int64_t total, std::int64_t warmup)
{
    if (step < warmup)
        return double(step) / double(std::max<std::int64_t>(1, warmup));
    if (type == "constant")
        return 1.0;
    const double progress = double(step - warmup) / double(std::max<std::int64_t>(1, total - warmup));
    if (type == "linear")
        return std::max(0.0, 1.0 - progress);
    return std::max(0.0, 0.5 * (1.0 + std::cos(std::numbers::pi * progress)));
}

} // namespace unirank::training
