// SPDX-License-Identifier: GPL-3.0-or-later
// unirank-cli random-checkpoint --preset 2b|7b|qwen2.5-vl-3b|qwen3-vl-2b|qwen3-vl-8b|tiny [--layers N] [--vision-blocks N] [--seed S]
//                               [--dtype bf16|fp32] [--shard-mb N] --out DIR
//
// Writes a checkpoint laid out exactly like the Hub's (config.json, sharded safetensors with
// model.safetensors.index.json, preprocessor_config.json) with deterministic random weights: the same
// bytes on every machine (core/model/random_checkpoint.h). Copy a tokenizer.json beside it to score it.
// For the reference tests (tools/golden) and for load and memory benchmarks at real size.
#include "cli_common.h"

#include "core/model/presets.h"
#include "core/model/random_checkpoint.h"

#include <iostream>

namespace unirank::cli {

void addRandomCheckpointCommand(CLI::App &app)
{
    struct Args {
        std::string preset = "2b", dtype = "bf16", out, family = "qwen2_vl";
        std::int64_t layers = -1, visionBlocks = -1;
        std::uint64_t seed = 1, shardMb = 4000;
    };
    auto a = std::make_shared<Args>();
    auto *cmd = app.add_subcommand("random-checkpoint", "Write a Hub-layout checkpoint with deterministic random weights");
    auto names = model::presetNames();
    names.push_back("tiny");
    cmd->add_option("--preset", a->preset,
                    "2b or 7b (Qwen2-VL-2B/7B-Instruct's shapes), qwen2.5-vl-3b, qwen3-vl-2b, qwen3-vl-8b, or tiny "
                    "(the golden config)")
        ->check(CLI::IsMember(names));
    cmd->add_option("--layers", a->layers, "Decoder layers (default: the full model's)")->check(CLI::Range(1, 128));
    cmd->add_option("--vision-blocks", a->visionBlocks, "Vision blocks (default: the full model's)")->check(CLI::Range(1, 128));
    cmd->add_option("--seed", a->seed, "Seed of the weights");
    cmd->add_option("--dtype", a->dtype, "bf16 (as the Hub's) or fp32")->check(CLI::IsMember({"bf16", "fp32"}));
    cmd->add_option("--shard-mb", a->shardMb, "Largest shard in MB (the Hub uses about 4000)")->check(CLI::Range(1, 1000000));
    cmd->add_option("--family", a->family, "The tiny preset's family: qwen2_vl, qwen2_5_vl or qwen3_vl")
        ->check(CLI::IsMember({"qwen2_vl", "qwen2_5_vl", "qwen3_vl"}));
    cmd->add_option("--out", a->out, "Folder to write (created)")->required();
    cmd->callback([a] {
        model::Qwen2VLConfig config;
        if (a->preset == "tiny") {
            config = model::tinyConfig(a->family == "qwen3_vl"     ? model::Family::Qwen3VL
                                       : a->family == "qwen2_5_vl" ? model::Family::Qwen2_5VL
                                                                   : model::Family::Qwen2VL);
            if (a->layers > 0)
                config.text.numLayers = a->layers;
            if (a->visionBlocks > 0)
                config.vision.depth = a->visionBlocks;
        } else {
            config = model::presetConfig(a->preset, a->layers, a->visionBlocks);
        }
        model::RandomCheckpointOptions options;
        options.seed = a->seed;
        options.bf16 = a->dtype == "bf16";
        options.shardBytes = a->shardMb * 1'000'000ull;
        const auto bytes = model::writeRandomCheckpoint(config, a->out, options);
        std::cout << "wrote " << bytes << " bytes of weights to " << a->out << "\n";
    });
}

} // namespace unirank::cli
