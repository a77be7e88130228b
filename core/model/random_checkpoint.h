// SPDX-License-Identifier: GPL-3.0-or-later
// Deterministic random checkpoints laid out like the Hub's: config.json, bf16 (or fp32) shards
// model-0000k-of-0000n.safetensors with model.safetensors.index.json, the family's tensor names
// (+ `lm_head.weight` when untied), and the family's Hub preprocessor_config.json. For reference
// tests (the same bytes on every machine, so stored reference scores stay valid) and for load/memory
// benchmarks at full size (written tensor by tensor, never held in memory).
//
// Values are a pure function of (seed, tensor name, element index), computed in integers: a uniform
// grid of 255 levels with the standard deviation of Hugging Face's init (0.02), norms 1 +- (sd 0.1),
// rounded to bf16 exactly. Threading: a free function. Errors: std::system_error on I/O; files are
// written to a temporary name and renamed.
#pragma once

#include "core/model/config.h"

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace unirank::model {

struct TensorShape {
    std::string name;
    std::vector<std::int64_t> shape;
};

/// Every tensor a Hub checkpoint of this config stores, in the family's Hub naming (Qwen2-VL and
/// Qwen2.5-VL: `visual.*`, `model.*`; Qwen3-VL: `model.visual.*`, `model.language_model.*`).
std::vector<TensorShape> checkpointTensors(const Qwen2VLConfig &config);

struct RandomCheckpointOptions {
    std::uint64_t seed = 1;
    bool bf16 = true;                        ///< else float32
    std::uint64_t shardBytes = 4'000'000'000; ///< a new shard starts when the current one would pass this
};

/// Writes the checkpoint into `folder` (created); returns the bytes of tensor data written.
std::uint64_t writeRandomCheckpoint(const Qwen2VLConfig &config, const std::filesystem::path &folder,
                                    const RandomCheckpointOptions &options = {});

/// The value of element `index` of tensor `name` (float32 before any rounding to bf16).
float randomWeight(std::uint64_t seed, const std::string &name, std::uint64_t index);

} // namespace unirank::model
