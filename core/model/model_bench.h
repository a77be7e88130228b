// SPDX-License-Identifier: GPL-3.0-or-later
// Forward-pass benchmark of the model on this machine, reported as ratios measured in the same run:
// model FLOPs utilisation = achieved FLOP/s of a forward / the best FLOP/s libtorch's own GEMM reaches
// here in the same dtype (square products and the model's own GEMM shapes). Also tokens/s, patches/s
// and peak memory (process RSS on the CPU; the caching allocator's peak on CUDA).
//
// Threading: runs on the calling thread; guards are its own. Errors: InputError for bad arguments.
#pragma once

#include "core/model/config.h"

#include <nlohmann/json_fwd.hpp>
#include <torch/torch.h>

#include <filesystem>
#include <functional>
#include <string>

namespace unirank::model {

struct ModelBenchOptions {
    std::string preset = "tiny";  ///< "tiny" or "2b"
    std::int64_t layers = 2;      ///< decoder layers and vision blocks for the 2b preset
    std::int64_t batch = 4;
    std::int64_t seqLen = 256;
    std::int64_t imageSide = 448; ///< pixels; the vision forward encodes one image of this size
    torch::Device device = torch::kCPU;
    torch::ScalarType dtype = torch::kFloat32;
    double minSeconds = 1.0;      ///< per timed measurement
    /// A checkpoint folder to load (its config replaces the preset): load time and the memory it takes
    /// are measured before anything else runs.
    std::filesystem::path checkpoint;
};

struct ModelBenchResult {
    Qwen2VLConfig config;
    ModelBenchOptions options;
    int threads = 0;
    double gemmPeakFlops = 0;       ///< best GEMM FLOP/s seen on the path the model's products take
    std::string gemmPeakShape;
    std::string gemmPath;           ///< that path: "native", or "widened to float32" (gemm.h)
    double textSeconds = 0, textFlops = 0, textTokensPerSecond = 0;
    double visionSeconds = 0, visionFlops = 0, visionPatchesPerSecond = 0;
    std::int64_t visionPatches = 0;
    double parameterBytes = 0;
    double peakMemoryBytes = 0;     ///< RSS high-water mark (CPU) or allocator peak (CUDA)
    std::string memoryKind;
    // With a checkpoint: its weight files' size, the load's wall time and the peak memory after it.
    double checkpointFileBytes = 0, loadSeconds = 0, loadPeakMemoryBytes = 0;

    double textMfu() const { return gemmPeakFlops > 0 ? textFlops / textSeconds / gemmPeakFlops : 0; }
    double visionMfu() const { return gemmPeakFlops > 0 ? visionFlops / visionSeconds / gemmPeakFlops : 0; }
    nlohmann::json toJson() const;
    std::string toText() const;
};

/// Matmul FLOPs of one text forward of batch x seq tokens (projections, MLP, attention scores and
/// values over the causal half) plus the LM head at one position per row.
double textForwardFlops(const Qwen2VLConfig &c, std::int64_t batch, std::int64_t seq);
/// Matmul FLOPs of the vision tower on `patches` patches in one attention block, merger included.
double visionForwardFlops(const Qwen2VLConfig &c, std::int64_t patches);

/// libtorch's best matmul FLOP/s here in this dtype over square products (and 8192^3 on CUDA) and the
/// given extra shapes {m, k, n}; `shape` receives the winner "MxKxN".
double measureGemmPeak(torch::Device device, torch::ScalarType dtype, const std::vector<std::array<std::int64_t, 3>> &extra,
                       double minSeconds, std::string *shape = nullptr);

/// Runs `f` until `minSeconds` have passed (at least twice after one warm-up); seconds per call.
double timeIt(const std::function<void()> &f, double minSeconds);
void sync(const torch::Tensor &t); ///< waits for the device
double rssHighWater();             ///< bytes
/// Peak memory so far with what it measures: the CUDA allocator's peak on a GPU, else process RSS.
std::pair<double, std::string> peakMemory(torch::Device device);
void resetPeakMemory(torch::Device device); ///< the CUDA allocator's peak; nothing on the CPU

ModelBenchResult benchmarkModel(const ModelBenchOptions &options,
                                const std::function<void(const std::string &)> &progress = {});

} // namespace unirank::model
