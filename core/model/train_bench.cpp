// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/model/train_bench.h"

#include "core/model/autocast.h"
#include "core/model/lora.h"
#include "core/model/model_bench.h"
#include "core/model/presets.h"
#include "core/model/qwen2vl.h"

#include <nlohmann/json.hpp>

#include <sstream>
#include <tuple>


namespace unirank::model {

TrainBenchResult benchmarkTraining(const TrainBenchOptions &o, const std::function<void(const std::string &)> &progress)
{
    const auto say = [&](const std::string &s) {
        if (progress)
            progress(s);
    };
    if (o.batch <= 0 || o.seqLen <= 1 || o.layers <= 0 || o.rank <= 0)
        throw InputError("bench train: batch, seq-len, layers and r must be positive");
    TrainBenchResult r;
    r.options = o;
    r.config = o.preset == "tiny" ? tinyConfig() : presetConfig(o.preset, o.layers, 1);
    r.threads = torch::get_num_threads();
    const auto dtype = o.bf16 ? torch::kBFloat16 : torch::kFloat32;
    const auto tokens = o.batch * o.seqLen;
    say("measuring the GEMM peak");
    r.gemmPeakFlops = measureGemmPeak(o.device, dtype, {{tokens, r.config.text.hiddenSize, r.config.text.intermediateSize}},
                                      std::min(0.5, o.minSeconds), &r.gemmPeakShape);
    say("building the model");
    resetPeakMemory(o.device);
    torch::manual_seed(1);
    Qwen2VL model(r.config);
    model->to(o.device);
    std::vector<torch::Tensor> params;
    for (auto &p : model->named_parameters()) {
        r.parameters += static_cast<double>(p.value().numel());
        const bool trainable = !o.lora && !p.key().starts_with("visual.");
        p.value().set_requires_grad(trainable);
        if (trainable)
            params.push_back(p.value());
    }
    if (o.lora) {
        LoraConfig lora;
        lora.settings.rank = o.rank;
        addLoraAdapters(model, lora);
        for (auto &[name, t] : loraParameters(model)) {
            t.set_requires_grad(true);
            params.push_back(t);
        }
    }
    for (const auto &p : params)
        r.trainableParameters += static_cast<double>(p.numel());
    model->decoder()->setGradientCheckpointing(o.gradientCheckpointing);
    model->train();
    torch::optim::AdamW optimizer(params, torch::optim::AdamWOptions(1e-4));
    ForwardInput in;
    in.inputIds = torch::randint(0, std::min<std::int64_t>(r.config.text.vocabSize, r.config.tokens.visionStart),
                                 {o.batch, o.seqLen}, torch::kLong)
                      .to(o.device);
    in.logitPositions = torch::full({o.batch, 1}, o.seqLen - 1, torch::kLong).to(o.device);
    in.logitTokens = torch::tensor({std::int64_t{3}, std::int64_t{4}}, torch::kLong).to(o.device);
    const auto labels = torch::randint(0, 2, {o.batch}, torch::kLong).to(o.device);
    say("timing training steps");
    std::optional<AutocastBf16> autocast;
    autocast.emplace(o.bf16, o.device);
    r.stepSeconds = timeIt(
        [&] {
            optimizer.zero_grad();
            const auto logits = forward(model, in).logits.select(1, 0).to(torch::kFloat32);
            auto loss = torch::nn::functional::cross_entropy(logits, labels);
            loss.backward();
            optimizer.step();
            sync(loss.detach());
        },
        o.minSeconds);
    autocast.reset();
    r.stepFlops = (o.lora ? 2.0 : 3.0) * textForwardFlops(r.config, o.batch, o.seqLen);
    r.tokensPerSecond = static_cast<double>(tokens) / r.stepSeconds;
    std::tie(r.peakMemoryBytes, r.memoryKind) = peakMemory(o.device);
    return r;
}

nlohmann::json TrainBenchResult::toJson() const
{
    return {{"bench", "train"},
            {"preset", options.preset},
            {"decoder_layers", config.text.numLayers},
            {"mode", options.lora ? "lora" : "full"},
            {"r", options.lora ? options.rank : 0},
            {"precision", options.bf16 ? "bf16 autocast" : "fp32"},
            {"gradient_checkpointing", options.gradientCheckpointing},
            {"device", options.device.str()},
            {"threads", threads},
            {"batch", options.batch},
            {"seq_len", options.seqLen},
            {"parameters", parameters},
            {"trainable_parameters", trainableParameters},
            {"gemm_peak_gflops", gemmPeakFlops / 1e9},
            {"gemm_peak_shape", gemmPeakShape},
            {"step_seconds", stepSeconds},
            {"tokens_per_second", tokensPerSecond},
            {"step_gflop", stepFlops / 1e9},
            {"mfu", mfu()},
            {"flops_factor", options.lora ? 2 : 3},
            {"peak_memory_mib", peakMemoryBytes / (1 << 20)},
            {"peak_memory_kind", memoryKind}};
}

std::string TrainBenchResult::toText() const
{
    std::ostringstream s;
    s << options.preset << " (" << config.text.numLayers << " decoder layers), " << (options.lora ? "LoRA r=" + std::to_string(options.rank) : std::string("full"))
      << ", " << (options.bf16 ? "bf16 autocast" : "fp32") << (options.gradientCheckpointing ? ", activation checkpointing" : "") << ", "
      << options.device.str() << ", " << threads << " threads\n";
    s << "trainable parameters: " << trainableParameters << " of " << parameters << "\n";
    s << "libtorch GEMM peak: " << gemmPeakFlops / 1e9 << " GFLOP/s (" << gemmPeakShape << ")\n";
    s << "training step (" << options.batch << " x " << options.seqLen << " tokens): " << stepSeconds * 1e3 << " ms, "
      << tokensPerSecond << " tokens/s, " << stepFlops / stepSeconds / 1e9 << " GFLOP/s, MFU " << mfu() << "\n";
    s << "peak memory: " << peakMemoryBytes / (1 << 20) << " MiB (" << memoryKind << ")\n";
    return s.str();
}

} // namespace unirank::model
