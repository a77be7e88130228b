// SPDX-License-Identifier: GPL-3.0-or-later
// PEFT LoRA adapters (adapter_config.json + adapter_model.safetensors, as PEFT saves them), merged into
// a loaded model's weights for inference: W += scale * B @ A, with scale = lora_alpha / r (or
// lora_alpha / sqrt(r) with use_rslora). Module paths after `base_model.model.` may use either naming
// scheme of the base checkpoint.
//
// Errors: BadInput naming the file and tensor for a missing or unpaired lora_A/lora_B, a module the
// model does not have, mismatched shapes, or unsupported options (DoRA, fan_in_fan_out, embeddings).
#pragma once

#include "core/model/lora_linear.h"
#include "core/model/qwen2vl.h"

#include <filesystem>
#include <string>
#include <vector>

namespace unirank::model {

struct LoraInfo {
    std::int64_t rank = 0;
    double alpha = 0;
    double scale = 0;
    std::size_t mergedModules = 0;
};

Result<LoraInfo> mergeLoraAdapter(Qwen2VL &model, const std::filesystem::path &adapterFolder);

// Trainable adapters (PEFT's LoraConfig in C++): LoRA modules inside the model's LoraLinear layers.

struct LoraConfig {
    LoraSettings settings;
    /// PEFT's target_modules: a layer is adapted when its name equals an entry or ends with "." + entry.
    /// Text: q_proj k_proj v_proj o_proj gate_proj up_proj down_proj; vision: qkv proj fc1 fc2.
    std::vector<std::string> targetModules{"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};
    bool vision = false; ///< also adapt matching layers of the vision tower (under "visual.")
};

/// Adds fresh adapters; returns how many layers got one. Throws InputError when none matched.
std::size_t addLoraAdapters(Qwen2VL &model, const LoraConfig &config);
void removeLoraAdapters(Qwen2VL &model);
/// Folds every adapter into its weight (W += scale B A) and removes the adapters.
void mergeLoraAdapters(Qwen2VL &model);
/// The adapters' parameters with their PEFT names ("base_model.model.<layer>.lora_A.weight", the layer
/// path as the family's transformers class names it: Qwen3-VL's under model.language_model. and
/// model.visual.), in the model's order.
std::vector<std::pair<std::string, torch::Tensor>> loraParameters(Qwen2VL &model);

/// Writes a PEFT adapter folder (adapter_config.json + adapter_model.safetensors) atomically.
/// `baseModel` goes into base_model_name_or_path.
void saveLoraAdapter(Qwen2VL &model, const LoraConfig &config, const std::filesystem::path &folder,
                     const std::string &baseModel);
/// Writes the two files of a PEFT adapter into an existing folder (each file atomically).
void writeLoraAdapterFiles(Qwen2VL &model, const LoraConfig &config, const std::filesystem::path &folder,
                           const std::string &baseModel);
/// Reads a PEFT adapter folder into trainable (unmerged) adapters on the matching layers, replacing any.
Result<LoraConfig> loadLoraAdapter(Qwen2VL &model, const std::filesystem::path &folder);

} // namespace unirank::model
