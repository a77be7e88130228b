// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/model/model_bench.h"

#include "core/model/gemm.h"
#include "core/model/loader.h"

#include "core/model/presets.h"
#include "core/model/qwen2vl.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <cmath>
#include <sstream>
#include <sys/resource.h>

#ifdef UNIRANK_TORCH_CUDA
#include <c10/cuda/CUDACachingAllocator.h>
#endif

namespace unirank::model {

using Clock = std::chrono::steady_clock;

double timeIt(const std::function<void()> &f, double minSeconds)
{
    f(); // warm-up
    int calls = 0;
    const auto start = Clock::now();
    double elapsed = 0;
    do {
        f();
        ++calls;
        elapsed = std::chrono::duration<double>(Clock::now() - start).count();
    } while (elapsed < minSeconds || calls < 2);
    return elapsed / calls;
}

void sync(const torch::Tensor &t)
{
    (void)t.sum().item<double>(); // waits for the device
}

double rssHighWater()
{
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    return static_cast<double>(usage.ru_maxrss) * 1024.0;
}

std::pair<double, std::string> peakMemory([[maybe_unused]] torch::Device device)
{
#ifdef UNIRANK_TORCH_CUDA
    if (device.is_cuda()) {
        const auto stats = c10::cuda::CUDACachingAllocator::getDeviceStats(device.index() < 0 ? 0 : device.index());
        return {static_cast<double>(stats.allocated_bytes[0].peak), "CUDA allocator peak"};
    }
#endif
    return {rssHighWater(), "process RSS high-water mark"};
}

void resetPeakMemory([[maybe_unused]] torch::Device device)
{
#ifdef UNIRANK_TORCH_CUDA
    if (device.is_cuda())
        c10::cuda::CUDACachingAllocator::resetPeakStats(device.index() < 0 ? 0 : device.index());
#endif
}

namespace {

std::string dtypeName(torch::ScalarType t)
{
    return t == torch::kFloat32 ? "fp32" : t == torch::kBFloat16 ? "bf16" : t == torch::kHalf ? "fp16" : "other";
}

} // namespace

double textForwardFlops(const Qwen2VLConfig &c, std::int64_t batch, std::int64_t seq)
{
    const double H = static_cast<double>(c.text.hiddenSize), I = static_cast<double>(c.text.intermediateSize);
    const double q = static_cast<double>(c.text.numHeads * c.text.headDim); // = H except where head_dim is its own (Qwen3)
    const double kv = static_cast<double>(c.text.numKvHeads * c.text.headDim);
    const double tokens = static_cast<double>(batch * seq);
    const double perTokenLayer = 2 * (H * q + 2 * H * kv + q * H + 3 * H * I);
    const double attention = 2.0 * 2.0 * q * static_cast<double>(seq) * static_cast<double>(seq + 1) / 2.0; // causal
    const double layers = static_cast<double>(c.text.numLayers);
    return layers * (tokens * perTokenLayer + static_cast<double>(batch) * attention) +
           static_cast<double>(batch) * 2 * H * static_cast<double>(c.text.vocabSize);
}

double visionForwardFlops(const Qwen2VLConfig &c, std::int64_t patches)
{
    const auto &v = c.vision;
    const double E = static_cast<double>(v.embedDim), M = static_cast<double>(v.mlpHidden());
    const double n = static_cast<double>(patches);
    const double mlpMatrices = v.family == Family::Qwen2_5VL ? 3 : 2; // gated SiLU: gate, up, down
    // Attention scores over all patches of the image; Qwen2.5-VL's windowed blocks see one window
    // (at most (window / patch)^2 patches) instead.
    const double window = v.windowSize > 0 ? std::pow(static_cast<double>(v.windowSize / v.patchSize), 2.0) : n;
    const auto fullBlocks = v.windowSize > 0 ? static_cast<double>(v.fullAttentionBlocks.size()) : static_cast<double>(v.depth);
    const double linear = n * 2 * (3 * E * E + E * E + mlpMatrices * E * M);
    const double scores = 2.0 * 2.0 * E * n;
    const double blocks = static_cast<double>(v.depth) * linear + fullBlocks * scores * n +
                          (static_cast<double>(v.depth) - fullBlocks) * scores * std::min(n, window);
    const double merge = static_cast<double>(v.spatialMergeSize * v.spatialMergeSize);
    const double mergers = 1.0 + static_cast<double>(v.deepstackIndexes.size()); // DeepStack's are as large
    const double merger = mergers * n / merge * 2 * (merge * E * merge * E + merge * E * static_cast<double>(v.hiddenSize));
    return n * 2 * static_cast<double>(v.patchFeatures()) * E + blocks + merger;
}

double measureGemmPeak(torch::Device device, torch::ScalarType dtype, const std::vector<std::array<std::int64_t, 3>> &extra,
                       double minSeconds, std::string *shape)
{
    c10::InferenceMode inference;
    const auto opts = torch::TensorOptions().dtype(dtype).device(device);
    std::vector<std::array<std::int64_t, 3>> shapes{{1024, 1024, 1024}, {2048, 2048, 2048}};
    if (device.is_cuda())
        shapes.push_back({8192, 8192, 8192});
    shapes.insert(shapes.end(), extra.begin(), extra.end());
    double best = 0;
    for (const auto &[m, k, n] : shapes) {
        const auto a = torch::randn({m, k}, opts), b = torch::randn({k, n}, opts);
        const double s = timeIt([&] { sync(gemm::matmul(a, b)); }, minSeconds); // the path the model takes
        const double flops = 2.0 * static_cast<double>(m) * static_cast<double>(k) * static_cast<double>(n) / s;
        if (flops > best) {
            best = flops;
            if (shape)
                *shape = std::to_string(m) + "x" + std::to_string(k) + "x" + std::to_string(n);
        }
    }
    return best;
}

ModelBenchResult benchmarkModel(const ModelBenchOptions &o, const std::function<void(const std::string &)> &progress)
{
    const auto say = [&](const std::string &s) {
        if (progress)
            progress(s);
    };
    if (o.batch <= 0 || o.seqLen <= 1 || o.layers <= 0 || o.imageSide < 56)
        throw InputError("bench model: batch, seq-len and layers must be positive and the image at least 56 px");
    ModelBenchResult r;
    r.options = o;
    r.threads = torch::get_num_threads();
    torch::InferenceMode inference;
    Qwen2VL model{nullptr};
    if (!o.checkpoint.empty()) {
        // First, before anything else takes memory: load the checkpoint as `score` does.
        for (const auto &e : std::filesystem::directory_iterator(o.checkpoint))
            if (e.is_regular_file() && e.path().extension() == ".safetensors")
                r.checkpointFileBytes += static_cast<double>(e.file_size());
        say("loading " + o.checkpoint.string());
        resetPeakMemory(o.device);
        const auto start = std::chrono::steady_clock::now();
        auto loaded = loadQwen2VL(o.checkpoint, {o.device, o.dtype, {}});
        if (!loaded)
            throw InputError(loaded.error().message);
        model = *loaded;
        r.loadSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        r.loadPeakMemoryBytes = peakMemory(o.device).first;
        r.config = model->config();
    } else {
        r.config = o.preset == "tiny" ? tinyConfig() : presetConfig(o.preset, o.layers, o.layers);
    }
    const auto opts = torch::TensorOptions().dtype(o.dtype).device(o.device);

    // 1. libtorch's own GEMM peak in this dtype: square products and the model's largest GEMM shape.
    say("measuring the GEMM peak");
    const auto tokens = o.batch * o.seqLen;
    r.gemmPeakFlops = measureGemmPeak(o.device, o.dtype, {{tokens, r.config.text.hiddenSize, r.config.text.intermediateSize}},
                                      std::min(0.5, o.minSeconds), &r.gemmPeakShape);
    r.gemmPath = o.device.is_cpu() ? gemm::pathName(gemm::cpuPath(o.dtype)) : "native";

    // 2. The model with random weights.
    if (!model) {
        say("building the model");
        resetPeakMemory(o.device);
        torch::manual_seed(1);
        model = Qwen2VL(r.config);
        model->to(o.device, o.dtype);
    }
    for (const auto &p : model->parameters())
        r.parameterBytes += static_cast<double>(p.numel() * p.element_size());

    say("timing the text forward");
    ForwardInput text;
    text.inputIds = torch::randint(0, std::min<std::int64_t>(r.config.text.vocabSize, r.config.tokens.visionStart),
                                   {o.batch, o.seqLen}, torch::kLong);
    text.logitPositions = torch::full({o.batch, 1}, o.seqLen - 1, torch::kLong);
    r.textSeconds = timeIt([&] { sync(forward(model, text).logits); }, o.minSeconds);
    r.textFlops = textForwardFlops(r.config, o.batch, o.seqLen);
    r.textTokensPerSecond = static_cast<double>(tokens) / r.textSeconds;

    say("timing the vision forward");
    const auto side = o.imageSide / 28 * 2; // patches per side (a multiple of the merge size)
    r.visionPatches = side * side;
    const auto grid = torch::tensor({std::int64_t{1}, side, side}, torch::kLong).view({1, 3});
    const auto pixels = torch::randn({r.visionPatches, r.config.vision.patchFeatures()}, opts);
    r.visionSeconds = timeIt([&] { sync(model->visual()(pixels, grid)); }, o.minSeconds);
    r.visionFlops = visionForwardFlops(r.config, r.visionPatches);
    r.visionPatchesPerSecond = static_cast<double>(r.visionPatches) / r.visionSeconds;

    std::tie(r.peakMemoryBytes, r.memoryKind) = peakMemory(o.device);
    return r;
}

nlohmann::json ModelBenchResult::toJson() const
{
    return {{"preset", options.checkpoint.empty() ? options.preset : std::string("checkpoint")},
            {"layers", {{"text", config.text.numLayers}, {"vision", config.vision.depth}}},
            {"device", options.device.str()},
            {"dtype", dtypeName(options.dtype)},
            {"threads", threads},
            {"gemm_peak_gflops", gemmPeakFlops / 1e9},
            {"gemm_peak_shape", gemmPeakShape},
            {"gemm_path", gemmPath},
            {"text", {{"batch", options.batch}, {"seq_len", options.seqLen}, {"seconds", textSeconds},
                      {"tokens_per_s", textTokensPerSecond}, {"gflops", textFlops / textSeconds / 1e9}, {"mfu", textMfu()}}},
            {"vision", {{"patches", visionPatches}, {"seconds", visionSeconds}, {"patches_per_s", visionPatchesPerSecond},
                        {"gflops", visionFlops / visionSeconds / 1e9}, {"mfu", visionMfu()}}},
            {"parameter_mib", parameterBytes / (1 << 20)},
            {"peak_memory_mib", peakMemoryBytes / (1 << 20)},
            {"peak_memory_kind", memoryKind},
            {"checkpoint", options.checkpoint.string()},
            {"checkpoint_file_mib", checkpointFileBytes / (1 << 20)},
            {"load_seconds", loadSeconds},
            {"load_peak_memory_mib", loadPeakMemoryBytes / (1 << 20)},
            {"load_peak_over_files", checkpointFileBytes > 0 ? loadPeakMemoryBytes / checkpointFileBytes : 0.0}};
}

std::string ModelBenchResult::toText() const
{
    std::ostringstream s;
    s.setf(std::ios::fixed);
    s.precision(1);
    s << "model " << (options.checkpoint.empty() ? options.preset : options.checkpoint.filename().string()) << " (" << config.text.numLayers << " decoder layers, " << config.vision.depth
      << " vision blocks, " << parameterBytes / (1 << 20) << " MiB of parameters) on " << options.device.str() << " in "
      << dtypeName(options.dtype) << ", " << threads << " threads\n";
    s << "libtorch GEMM peak: " << gemmPeakFlops / 1e9 << " GFLOP/s (" << gemmPeakShape << ", " << gemmPath << ")\n";
    s.precision(3);
    s << "text forward  " << options.batch << "x" << options.seqLen << ": " << textTokensPerSecond << " tokens/s, "
      << textFlops / textSeconds / 1e9 << " GFLOP/s, MFU " << textMfu() << " of the GEMM peak\n";
    s << "vision forward " << visionPatches << " patches: " << visionPatchesPerSecond << " patches/s, "
      << visionFlops / visionSeconds / 1e9 << " GFLOP/s, MFU " << visionMfu() << " of the GEMM peak\n";
    s.precision(1);
    if (!options.checkpoint.empty())
        s << "load " << options.checkpoint.string() << " (" << checkpointFileBytes / (1 << 20) << " MiB of weight files): "
          << loadSeconds << " s, peak memory " << loadPeakMemoryBytes / (1 << 20) << " MiB ("
          << (checkpointFileBytes > 0 ? loadPeakMemoryBytes / checkpointFileBytes : 0.0) << "x the files)\n";
    s << "peak memory: " << peakMemoryBytes / (1 << 20) << " MiB (" << memoryKind << ")\n";
    return s.str();
}

} // namespace unirank::model
