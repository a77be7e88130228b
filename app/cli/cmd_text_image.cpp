// SPDX-License-Identifier: GPL-3.0-or-later
// unirank-cli tokenize --tokenizer FILE      one JSON string per stdin line -> one JSON id array per line
// unirank-cli preprocess --image FILE [--config preprocessor_config.json] [--min-pixels N]
//                        [--max-pixels N] --out FILE.safetensors
//     writes pixel_values (float32 [patches, 1176]) and image_grid_thw (int64 [1, 3]), atomically.
#include "cli_common.h"

#include "core/tensor/safetensors.h"
#include "core/text/tokenizer.h"
#include "core/vision/image_preprocess.h"

#include <nlohmann/json.hpp>

#include <iostream>

namespace unirank::cli {

void addTokenizeCommand(CLI::App &app)
{
    auto file = std::make_shared<std::string>();
    auto *cmd = app.add_subcommand("tokenize", "Tokenize JSON strings from stdin (one per line) to id arrays");
    cmd->add_option("--tokenizer", *file, "tokenizer.json")->required();
    cmd->callback([file] {
        const auto tokenizer = require(text::Tokenizer::load(*file));
        std::string line;
        std::int64_t lineNo = 0;
        while (std::getline(std::cin, line)) {
            ++lineNo;
            nlohmann::json value;
            try {
                value = nlohmann::json::parse(line);
            } catch (const nlohmann::json::exception &e) {
                throw InputError({"stdin", lineNo, ""}, std::string("not JSON: ") + e.what());
            }
            if (!value.is_string())
                throw InputError({"stdin", lineNo, ""}, "expected a JSON string");
            try {
                std::cout << nlohmann::json(tokenizer->encode(value.get<std::string>())).dump() << "\n";
            } catch (const InputError &e) {
                throw InputError({"stdin", lineNo, ""}, e.what());
            }
        }
        std::cout.flush();
    });
}

void addPreprocessCommand(CLI::App &app)
{
    struct Args {
        std::string image, config, out;
        std::int64_t minPixels = 0, maxPixels = 0;
    };
    auto a = std::make_shared<Args>();
    auto *cmd = app.add_subcommand("preprocess", "Preprocess one image as the Qwen2-VL processor does");
    cmd->add_option("--image", a->image, "Image file (PNG, JPEG, WebP, BMP, GIF, TIFF)")->required();
    cmd->add_option("--config", a->config, "preprocessor_config.json (default: the processor class defaults)");
    cmd->add_option("--min-pixels", a->minPixels, "Lower bound on the resized area")->check(CLI::PositiveNumber);
    cmd->add_option("--max-pixels", a->maxPixels, "Upper bound on the resized area")->check(CLI::PositiveNumber);
    cmd->add_option("--out", a->out, "Output .safetensors file")->required();
    cmd->callback([a] {
        vision::ImageProcessorConfig config;
        if (!a->config.empty())
            config = require(vision::ImageProcessorConfig::load(a->config));
        if (a->minPixels > 0)
            config.minPixels = a->minPixels;
        if (a->maxPixels > 0)
            config.maxPixels = a->maxPixels;
        if (config.maxPixels < config.minPixels)
            throw InputError("--max-pixels must be at least --min-pixels");
        const auto img = vision::preprocessImageFile(a->image, config);
        const auto *pv = reinterpret_cast<const std::byte *>(img.pixelValues.data());
        const auto *grid = reinterpret_cast<const std::byte *>(img.gridThw.data());
        tensor::writeSafetensors(
            a->out, {{"pixel_values", tensor::DType::F32, {img.patches, img.features}, {pv, img.pixelValues.size() * 4}},
                     {"image_grid_thw", tensor::DType::I64, {1, 3}, {grid, 24}}});
        std::cerr << a->image << ": resized to " << img.resizedHeight << "x" << img.resizedWidth << ", grid ["
                  << img.gridThw[0] << ", " << img.gridThw[1] << ", " << img.gridThw[2] << "], "
                  << img.tokenCount(config.mergeSize) << " tokens\n";
    });
}

} // namespace unirank::cli
