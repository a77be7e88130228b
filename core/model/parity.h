// SPDX-License-Identifier: GPL-3.0-or-later
// Reference parity: runs our Qwen2-VL on the inputs of a golden folder (laid out like
// ../shared/golden/qwen2vl: cases listed in cases_*/index.json, pixel_values taken from the files each
// case names) and compares every stored tensor with the reference output.
//
// Tolerances come from the golden data: `tolerances.json` records how far the reference moves against
// itself (another BLAS build, float64 vs float32). Its largest such spread relative to the tensor's
// magnitude, times kIndependentFactor, times max|reference tensor|, is the bound in float32.
// Reduced precision (bf16/fp16) is bounded by kLowPrecisionFactor x the dtype's unit roundoff x max|t|.
// Integer tensors (position ids, rope deltas, grids) must match exactly. Rows of [B, L, ...] tensors
// at padded positions (attention_mask 0) are not compared: the reference's values there are arbitrary.
//
// `dumpDir`, when given, receives our own tensors per case (CASE.ours.safetensors) for inspection.
//
// Threading: runs on the calling thread. Errors: BadInput for a malformed golden folder or checkpoint.
#pragma once

#include "core/util/error.h"

#include <nlohmann/json_fwd.hpp>
#include <torch/torch.h>

#include <filesystem>
#include <functional>
#include <string>
#include <vector>

namespace unirank::model {

struct ParityTensor {
    std::string name;
    double maxAbs = 0;
    double tolerance = 0; ///< 0 for exact comparisons
    double refMaxAbs = 0; ///< max |reference|
    bool ok = false;
};

struct ParityCase {
    std::string name;
    std::vector<ParityTensor> tensors;
    bool ok() const;
};

struct ParityReport {
    std::string device, dtype;
    double relativeSpread = 0; ///< from tolerances.json
    std::vector<ParityCase> cases;
    bool ok() const;
    nlohmann::json toJson() const;
    std::string toText() const;
};

constexpr double kIndependentFactor = 10.0;
constexpr double kLowPrecisionFactor = 8.0;

/// The largest relative spread recorded in `tolerances.json` (max |diff| / max |tensor|).
Result<double> referenceRelativeSpread(const std::filesystem::path &goldenDir);

Result<ParityReport> runParity(const std::filesystem::path &modelDir, const std::filesystem::path &goldenDir,
                               torch::Device device, torch::ScalarType dtype,
                               const std::function<void(const std::string &)> &log = {},
                               const std::filesystem::path &dumpDir = {});

} // namespace unirank::model
