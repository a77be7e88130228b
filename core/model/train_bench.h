// SPDX-License-Identifier: GPL-3.0-or-later
// Training-step benchmark (unirank-cli bench train): forward, backward and AdamW step on random text
// batches with the reranker's objective (cross-entropy on the two label tokens at the last position),
// with LoRA adapters on the text projections or full fine-tuning of the text weights. Reports tokens/s,
// peak memory and model FLOPs utilisation against libtorch's GEMM peak measured in the same run.
// FLOPs per step: full fine-tuning 3 x the forward's (forward, activation and weight gradients); LoRA
// 2 x (forward and activation gradients; the adapters' own products are ignored as small). With
// activation checkpointing the recomputed forward is not counted (model FLOPs, not hardware FLOPs).
//
// Threading: the calling thread. Errors: InputError for bad arguments.
#pragma once

#include "core/model/config.h"

#include <nlohmann/json_fwd.hpp>
#include <torch/torch.h>

#include <functional>
#include <string>

namespace unirank::model {

struct TrainBenchOptions {
    std::string preset = "tiny"; ///< tiny | 2b
    std::int64_t layers = 2;
    std::int64_t batch = 4, seqLen = 256;
    bool lora = true;
    std::int64_t rank = 8;
    bool bf16 = false; ///< autocast
    bool gradientCheckpointing = false; ///< recompute decoder activations in backward
    torch::Device device = torch::kCPU;
    double minSeconds = 1.0;
};

struct TrainBenchResult {
    TrainBenchOptions options;
    Qwen2VLConfig config;
    int threads = 0;
    double gemmPeakFlops = 0;
    std::string gemmPeakShape;
    double stepSeconds = 0, stepFlops = 0, tokensPerSecond = 0;
    double trainableParameters = 0, parameters = 0;
    double peakMemoryBytes = 0;
    std::string memoryKind;
    double mfu() const { return gemmPeakFlops > 0 ? stepFlops / stepSeconds / gemmPeakFlops : 0; }
    nlohmann::json toJson() const;
    std::string toText() const;
};

TrainBenchResult benchmarkTraining(const TrainBenchOptions &options, const std::function<void(const std::string &)> &progress = {});

} // namespace unirank::model
