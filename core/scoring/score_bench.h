// SPDX-License-Identifier: GPL-3.0-or-later
// Scoring benchmark, every figure measured in one run on this machine: pairs/s for text and for image
// candidates, native text vs text-as-image (tokens per candidate and time), query-prefix cache on vs
// off, the image-embedding cache's hit speed-up, and model FLOPs utilisation of text scoring against
// libtorch's GEMM peak measured in the same run.
//
// Threading: runs on the calling thread. Errors: InputError for bad arguments or data.
#pragma once

#include <nlohmann/json.hpp>
#include <torch/torch.h>

#include <filesystem>
#include <functional>
#include <string>

namespace unirank::scoring {

struct ScoreBenchOptions {
    std::string preset = "tiny";          ///< "tiny" (resources/models/tiny-random) or "2b" (random, 2B shapes)
    std::filesystem::path tinyModel;      ///< the tiny model folder; its tokenizer serves the 2b preset too
    std::filesystem::path dataset;        ///< BEIR folder with run.trec (the smoke set)
    std::filesystem::path tokenizer;      ///< 2b preset: a real tokenizer.json (else the tiny model's)
    /// A checkpoint folder to score with instead of a preset (e.g. one `random-checkpoint` wrote): its
    /// load time and the peak memory of loading and of the whole run are reported.
    std::filesystem::path modelFolder;
    std::int64_t layers = 2;              ///< 2b preset: decoder layers and vision blocks
    std::int64_t queries = 5;             ///< lists scored per measurement
    std::int64_t candidatesPerQuery = 16; ///< of each modality, at most
    std::int64_t batchSize = 8;
    /// Only the native text pairs (prefix cache on and off): the figure to compare with transformers
    /// at full depth, where the image and text-as-image passes take minutes.
    bool textOnly = false;
    bool int8 = false; ///< the language model's projections in dynamic int8 (CPU, fp32)
    torch::Device device = torch::kCPU;
    torch::ScalarType dtype = torch::kFloat32;
};

struct ScoreBenchResult {
    nlohmann::json figures;
    std::string text;
};

ScoreBenchResult benchmarkScoring(const ScoreBenchOptions &options,
                                  const std::function<void(const std::string &)> &progress = {});

} // namespace unirank::scoring
