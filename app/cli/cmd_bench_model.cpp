// SPDX-License-Identifier: GPL-3.0-or-later
// unirank-cli bench model [--preset tiny|2b] [--layers N] [--batch N] [--seq-len N] [--image-side PX]
//                         [--device cpu|cuda] [--dtype fp32|bf16|fp16] [--seconds S] [--json]
//                         [--checkpoint DIR]
// Forward throughput and its ratio to libtorch's own GEMM peak measured in the same run.
// For the fastest OpenBLAS, run it as `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE unirank-cli ...`.
#include "cli_common.h"

#include "core/model/loader.h"
#include "core/model/model_bench.h"
#include "core/model/train_bench.h"

#include <nlohmann/json.hpp>

#include <iostream>

namespace unirank::cli {

void addBenchModelCommand(CLI::App &bench)
{
    struct Args {
        model::ModelBenchOptions o;
        std::string device = "cpu", dtype = "fp32";
        bool json = false;
    };
    auto a = std::make_shared<Args>();
    auto *cmd = bench.add_subcommand("model", "Forward throughput and model FLOPs utilisation vs libtorch's GEMM peak");
    cmd->add_option("--preset", a->o.preset, "tiny (the golden config), or a model's shapes with random weights: 2b, 7b (Qwen2-VL), qwen2.5-vl-3b, qwen3-vl-2b, qwen3-vl-8b")
        ->check(CLI::IsMember(benchPresets()));
    cmd->add_option("--layers", a->o.layers, "Decoder layers and vision blocks of a model preset")->check(CLI::Range(1, 64));
    cmd->add_option("--batch", a->o.batch, "Sequences per text forward")->check(CLI::Range(1, 1024));
    cmd->add_option("--seq-len", a->o.seqLen, "Tokens per sequence")->check(CLI::Range(2, 32768));
    cmd->add_option("--image-side", a->o.imageSide, "Image side in pixels for the vision forward")->check(CLI::Range(56, 4096));
    cmd->add_option("--seconds", a->o.minSeconds, "Minimum seconds per timed measurement")->check(CLI::Range(0.1, 60.0));
    cmd->add_option("--device", a->device, "cpu or cuda[:N]");
    cmd->add_option("--dtype", a->dtype, "fp32, bf16 or fp16");
    cmd->add_flag("--json", a->json, "Print the figures as JSON");
    cmd->add_option("--checkpoint", a->o.checkpoint,
                    "Load this checkpoint folder instead of building the preset; report load time and memory")
        ->check(CLI::ExistingDirectory);
    cmd->callback([a] {
        auto o = a->o;
        o.device = model::parseDevice(a->device);
        o.dtype = model::parseDtype(a->dtype);
        const auto r = model::benchmarkModel(o, [](const std::string &s) { std::cerr << s << "\n"; });
        if (a->json)
            std::cout << r.toJson().dump(1) << "\n";
        else
            std::cout << r.toText();
    });
}

void addBenchTrainCommand(CLI::App &bench)
{
    struct Args {
        model::TrainBenchOptions o;
        std::string device = "cpu", mode = "lora";
        bool json = false;
    };
    auto a = std::make_shared<Args>();
    auto *cmd = bench.add_subcommand("train", "Training-step throughput and model FLOPs utilisation (LoRA or full)");
    cmd->add_option("--preset", a->o.preset, "tiny (the golden config), or a model's shapes with random weights: 2b, 7b (Qwen2-VL), qwen2.5-vl-3b, qwen3-vl-2b, qwen3-vl-8b")
        ->check(CLI::IsMember(benchPresets()));
    cmd->add_option("--layers", a->o.layers, "Decoder layers of a model preset")->check(CLI::Range(1, 64));
    cmd->add_option("--mode", a->mode, "lora or full")->check(CLI::IsMember({"lora", "full"}));
    cmd->add_option("--r", a->o.rank, "LoRA rank")->check(CLI::Range(1, 1024));
    cmd->add_option("--batch", a->o.batch, "Sequences per step")->check(CLI::Range(1, 1024));
    cmd->add_option("--seq-len", a->o.seqLen, "Tokens per sequence")->check(CLI::Range(2, 32768));
    cmd->add_flag("--bf16", a->o.bf16, "bf16 autocast (weights stay fp32)");
    cmd->add_flag("--gradient-checkpointing", a->o.gradientCheckpointing, "Recompute decoder activations in backward");
    cmd->add_option("--seconds", a->o.minSeconds, "Minimum seconds of timed steps")->check(CLI::Range(0.1, 600.0));
    cmd->add_option("--device", a->device, "cpu or cuda[:N]");
    cmd->add_flag("--json", a->json, "Print the figures as JSON");
    cmd->callback([a] {
        auto o = a->o;
        o.device = model::parseDevice(a->device);
        o.lora = a->mode == "lora";
        const auto r = model::benchmarkTraining(o, [](const std::string &s) { std::cerr << s << "\n"; });
        if (a->json)
            std::cout << r.toJson().dump(1) << "\n";
        else
            std::cout << r.toText();
    });
}

} // namespace unirank::cli
