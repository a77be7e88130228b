// SPDX-License-Identifier: GPL-3.0-or-later
// Learning-rate factors as Hugging Face's schedulers compute them for the optimizer step with index
// `step` (0-based): linear warmup from 0 over `warmup` steps, then cosine to 0, linear to 0, or constant.
#pragma once

#include <cstdint>
#include <string>

namespace unirank::training {

double scheduleFactor(const std::string &type, std::int64_t step, std::int64_t total, std::int64_t warmup);

} // namespace unirank::training
