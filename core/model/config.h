// SPDX-License-Identifier: GPL-3.0-or-later
// config.json of the three Qwen VLM families UniRank runs: Qwen2-VL (`qwen2_vl`), Qwen2.5-VL
// (`qwen2_5_vl`) and Qwen3-VL (`qwen3_vl`), in the layouts Hugging Face has written: flat (the 2024
// hub checkpoints), nested `text_config`/`vision_config` (transformers >= 4.5x, Qwen3-VL's own) and
// `rope_parameters` (v5). Keys missing from a section take that family's transformers class
// defaults, except the widths that size the model (`hidden_size`, and `out_hidden_size` for the two
// newer families), which must be present: the class defaults are the 7B/8B widths and silently
// wrong for every other size.
//
// What differs between the families is carried as data (norm kind, MLP kind, window attention,
// learned positions, DeepStack, q/k norms, interleaved M-RoPE), so one model class runs all three.
// Video inputs and sliding-window attention are not supported and refused by name.
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
#include <string_view>
#include <vector>

namespace unirank::model {

enum class Family { Qwen2VL, Qwen2_5VL, Qwen3VL };

/// config.json's model_type ("qwen2_vl", "qwen2_5_vl", "qwen3_vl").
std::string_view familyModelType(Family family);
/// For people ("Qwen2-VL", "Qwen2.5-VL", "Qwen3-VL").
std::string_view familyDisplayName(Family family);

struct TextConfig {
    std::int64_t hiddenSize = 0;
    std::int64_t numLayers = 0;
    std::int64_t numHeads = 0;
    std::int64_t numKvHeads = 0;
    std::int64_t headDim = 0; ///< hiddenSize / numHeads, or Qwen3's explicit head_dim
    std::int64_t intermediateSize = 0;
    std::int64_t vocabSize = 0;
    double rmsNormEps = 1e-6;
    double ropeTheta = 1e6;
    std::array<std::int64_t, 3> mropeSection{}; ///< temporal, height, width frequency pairs
    bool tieWordEmbeddings = false;
    std::string hiddenAct = "silu";
    bool qkvBias = true;           ///< q/k/v projections have biases (Qwen2; Qwen3: attention_bias)
    bool outputBias = false;       ///< o_proj has a bias (Qwen3 with attention_bias)
    bool qkNorm = false;           ///< per-head RMSNorm on q and k before RoPE (Qwen3)
    bool mropeInterleaved = false; ///< frequencies t,h,w interleaved (Qwen3) instead of in sections
};

struct VisionConfig {
    Family family = Family::Qwen2VL;
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
    std::int64_t intermediateSize = 0; ///< MLP width of Qwen2.5-VL/Qwen3-VL; 0 = embedDim * mlpRatio (Qwen2-VL)
    /// Qwen2.5-VL: attention within windows of this many pixels, except in fullAttentionBlocks.
    std::int64_t windowSize = 0;
    std::vector<std::int64_t> fullAttentionBlocks;
    std::int64_t numPositionEmbeddings = 0; ///< Qwen3-VL's learned position grid (side^2); 0 = none
    std::vector<std::int64_t> deepstackIndexes; ///< Qwen3-VL: blocks whose merged output feeds the decoder

    std::int64_t headDim() const { return embedDim / numHeads; }
    std::int64_t mlpHidden() const
    {
        return intermediateSize > 0 ? intermediateSize : static_cast<std::int64_t>(static_cast<double>(embedDim) * mlpRatio);
    }
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

/// The whole model's configuration, for any of the three families (the name is historical).
struct Qwen2VLConfig {
    TextConfig text;
    VisionConfig vision;
    SpecialTokens tokens;
    std::string torchDtype; ///< as declared ("bfloat16", "float32"); informational

    /// `source` names the file in error messages.
    static Result<Qwen2VLConfig> fromJson(const nlohmann::json &json, const std::string &source);
    static Result<Qwen2VLConfig> load(const std::filesystem::path &configJson);
    /// The family's own Hub layout: flat for Qwen2-VL and Qwen2.5-VL (as their 2024/2025 hub
    /// checkpoints), nested text_config/vision_config for Qwen3-VL.
    nlohmann::json toJson() const;

    Family family() const { return vision.family; }
};

} // namespace unirank::model
