// SPDX-License-Identifier: GPL-3.0-or-later
// PEFT LoRA adapters (adapter_config.json + adapter_model.safetensors, as PEFT saves them), merged into
// a loaded model's weights for inference: W += scale * B @ A, with scale = lora_alpha / r (or
// lora_alpha / sqrt(r) with use_rslora). Module paths after `base_model.model.` may use either naming
// scheme of the base checkpoint.
//
// Errors: BadInput naming the file and tensor for a missing or unpaired lora_A/lora_B, a module the
// model does not have, mismatched shapes, or unsupported options (DoRA, fan_in_fan_out, embeddings).
#pragma once

#include "core/model/qwen2vl.h"

#include <filesystem>

namespace unirank::model {

struct LoraInfo {
    std::int64_t rank = 0;
    double alpha = 0;
    double scale = 0;
    std::size_t mergedModules = 0;
};

Result<LoraInfo> mergeLoraAdapter(Qwen2VL &model, const std::filesystem::path &adapterFolder);

} // namespace unirank::model
