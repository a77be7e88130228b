// SPDX-License-Identifier: GPL-3.0-or-later
// Loads a Hugging Face Qwen2-VL, Qwen2.5-VL or Qwen3-VL checkpoint folder (config.json + model.safetensors or shards) into a
// Qwen2VL on the requested device and dtype, and saves one back in the same layout.
//
// Names: the 2024 hub layout (`visual.*`, `model.*`, `lm_head.weight`) and the transformers >= 4.52
// layout (`model.visual.*`, `model.language_model.*`) are both accepted. Every model parameter must be
// present with its exact shape; tensors the model does not use (a tied lm_head.weight) are reported
// through `log` and left alone. A checkpoint with a ranking head (`score.*`, as jina-reranker-m0's
// JinaVLForRanking) is refused by name: its label-token logits would be meaningless.
//
// Memory: the model is built without initialising its weights and each parameter then takes the file's
// tensor in the requested dtype and device (core/model/torch_io.h readTensorAs): mapped in place when
// the dtype matches on the CPU, else converted once. Peak memory is the model in its dtype plus one
// tensor (plus the mapped file pages in use).
//
// Threading: a free function; the returned model is owned by the caller (share it read-only).
// Errors: BadInput naming the file and tensor (missing, wrong shape, non-float dtype, malformed file).
#pragma once

#include "core/model/qwen2vl.h"
#include "core/tensor/checkpoint.h"

#include <filesystem>
#include <functional>

namespace unirank::model {

struct LoadOptions {
    torch::Device device = torch::kCPU;
    torch::ScalarType dtype = torch::kFloat32;
    std::function<void(const std::string &)> log; ///< notes (unused tensors); may be empty
};

/// `visual.x` / `model.x` / `lm_head.weight` for a stored name in either layout.
std::string canonicalTensorName(std::string_view stored);
/// The name a family's Hub checkpoints use for a canonical name (Qwen3-VL: `model.visual.x`,
/// `model.language_model.x`; the others: unchanged).
std::string hubTensorName(const std::string &canonical, Family family);

Result<Qwen2VL> loadQwen2VL(const std::filesystem::path &folder, const LoadOptions &options = {});

/// Copies the checkpoint's tensors into an existing model's parameters (same checks as loadQwen2VL).
Result<void> loadWeights(Qwen2VL &model, const tensor::Checkpoint &checkpoint, const LoadOptions &options = {});

/// Writes config.json and model.safetensors (the family's hub layout, float tensors as they are)
/// atomically.
void saveQwen2VL(Qwen2VL &model, const std::filesystem::path &folder);

/// Parses "cpu", "cuda", "cuda:1" and "fp32"/"bf16"/"fp16"; InputError otherwise or when CUDA is
/// asked for and libtorch has none.
torch::Device parseDevice(const std::string &name);
torch::ScalarType parseDtype(const std::string &name);

} // namespace unirank::model
