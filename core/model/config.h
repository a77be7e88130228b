// SPDX-License-Identifier: GPL-3.0-or-later
// Qwen2-VL config.json, in the three layouts Hugging Face has written: flat (the 2024 hub checkpoints),
// nested `text_config` (transformers >= 4.5x) and `rope_parameters` (v5). Vision keys missing from
// `vision_config` take the transformers class defaults, except `hidden_size`, which must be present
// (the class default is the 7B width and silently wrong for every other size).
//
// Errors: Error{BadInput} naming the file and field for a missing or wrong field, an unsupported
// model_type, or inconsistent sizes (mrope sections vs head dim, merger width vs text width).
#pragma once

#include "core/util/error.h"

#include <nlohmann/json_fwd.hpp>

#include <array>
#include <cstdint>
#include <filesystem>
#include <string>

namespace unirank::model {

struct TextConfig {
    std::int64_t hiddenSize = 0;
    std::int64_t numLayers = 0;
    std::int64_t numHeads = 0;
    std::int64_t numKvHeads = 0;
    std::int64_t headDim = 0; ///< hiddenSize / numHeads
    std::int64_t intermediateSize = 0;
    std::int64_t vocabSize = 0;
    double rmsNormEps = 1e-6;
    double ropeTheta = 1e6;
    std::array<std::int64_t, 3> mropeSection{}; ///< temporal, height, width frequency pairs
    bool tieWordEmbeddings = false;
    std::string hiddenAct = "silu";
};

struct VisionConfig {
    std::int64_t depth = 32;
    std::int64_t embedDim = 1280;
    std::int64_t numHeads = 16;
    double mlpRatio = 4;
    std::int64_t hiddenSize = 0; ///< merger output width = text hidden size
    std::int64_t inChannels = 3;
    std::int64_t patchSize = 14;
    std::int64_t spatialMergeSize = 2;
    std::int64_t temporalPatchSize = 2;
    std::string hiddenAct = "quick_gelu";

    std::int64_t headDim() const { return embedDim / numHeads; }
    std::int64_t mlpHidden() const { return static_cast<std::int64_t>(static_cast<double>(embedDim) * mlpRatio); }
    std::int64_t patchFeatures() const { return inChannels * temporalPatchSize * patchSize * patchSize; }
};

struct SpecialTokens {
    std::int64_t imageToken = 151655;
    std::int64_t videoToken = 151656;
    std::int64_t visionStart = 151652;
    std::int64_t visionEnd = 151653;
    std::int64_t bos = -1; ///< -1 when absent
    std::int64_t eos = -1;
};

struct Qwen2VLConfig {
    TextConfig text;
    VisionConfig vision;
    SpecialTokens tokens;
    std::string torchDtype; ///< as declared ("bfloat16", "float32"); informational

    /// `source` names the file in error messages.
    static Result<Qwen2VLConfig> fromJson(const nlohmann::json &json, const std::string &source);
    static Result<Qwen2VLConfig> load(const std::filesystem::path &configJson);
    nlohmann::json toJson() const; ///< flat layout, as the 2024 hub checkpoints
};

} // namespace unirank::model
