// SPDX-License-Identifier: GPL-3.0-or-later
// unirank-cli bench score [--preset tiny|2b] [--layers N] [--dataset DIR] [--model DIR] [--tokenizer FILE] [--queries N]
//                         [--candidates N] [--batch-size N] [--text-only] [--int8] [--device cpu|cuda] [--dtype fp32|bf16] [--json]
// Scoring throughput with and without each cache, native text vs text-as-image, and MFU; see
// core/scoring/score_bench.h. Defaults use the embedded smoke set and tiny model (run from the
// repository root or pass the folders).
#include "cli_common.h"

#include "core/model/loader.h"
#include "core/scoring/score_bench.h"

#include <nlohmann/json.hpp>

#include <iostream>

namespace unirank::cli {

void addBenchScoreCommand(CLI::App &bench)
{
    struct Args {
        scoring::ScoreBenchOptions o;
        std::string device = "cpu", dtype = "fp32", dataset = "resources/demo/clipart-smoke",
                    model = "resources/models/tiny-random";
        bool json = false;
    };
    auto a = std::make_shared<Args>();
    auto *cmd = bench.add_subcommand("score", "Scoring throughput: caches, native text vs text-as-image, MFU");
    cmd->add_option("--preset", a->o.preset, "tiny (the golden config), or a model's shapes with random weights: 2b, 7b (Qwen2-VL), qwen2.5-vl-3b, qwen3-vl-2b, qwen3-vl-8b")
        ->check(CLI::IsMember(benchPresets()));
    cmd->add_option("--layers", a->o.layers, "Decoder layers and vision blocks of a model preset")->check(CLI::Range(1, 64));
    cmd->add_option("--dataset", a->dataset, "BEIR folder with run.trec")->check(CLI::ExistingDirectory);
    cmd->add_option("--model", a->model, "The tiny model folder (its tokenizer also serves the 2b preset)")
        ->check(CLI::ExistingDirectory);
    cmd->add_option("--tokenizer", a->o.tokenizer, "2b preset: a real tokenizer.json (default: the tiny model's)")
        ->check(CLI::ExistingFile);
    cmd->add_option("--queries", a->o.queries, "Queries per measurement")->check(CLI::Range(1, 10000));
    cmd->add_option("--candidates", a->o.candidatesPerQuery, "Candidates per query and modality")->check(CLI::Range(1, 1000));
    cmd->add_option("--batch-size", a->o.batchSize, "Candidates per forward")->check(CLI::Range(1, 1024));
    cmd->add_flag("--int8", a->o.int8, "The language model's projections in dynamic int8 (CPU, fp32)");
    cmd->add_flag("--text-only", a->o.textOnly,
                  "Only native text pairs, prefix cache on and off (full depth; compare with tools/golden/bench_reference.py)");
    cmd->add_option("--device", a->device, "cpu or cuda[:N]");
    cmd->add_option("--dtype", a->dtype, "fp32, bf16 or fp16");
    cmd->add_flag("--json", a->json, "Print the figures as JSON");
    cmd->add_option("--checkpoint", a->o.modelFolder,
                    "Score with this checkpoint folder instead of a preset (reports load time and peak memory)")
        ->check(CLI::ExistingDirectory);
    cmd->callback([a] {
        auto o = a->o;
        o.device = model::parseDevice(a->device);
        o.dtype = model::parseDtype(a->dtype);
        o.dataset = a->dataset;
        o.tinyModel = a->model;
        const auto r = scoring::benchmarkScoring(o, [](const std::string &s) { std::cerr << s << "\n"; });
        if (a->json)
            std::cout << r.figures.dump(1) << "\n";
        else
            std::cout << r.text;
    });
}

} // namespace unirank::cli
