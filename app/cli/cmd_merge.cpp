// SPDX-License-Identifier: GPL-3.0-or-later
// unirank-cli merge --model DIR --adapter DIR --out DIR
//
// Merge-and-export: folds a PEFT LoRA adapter into the base weights (W += scale B A, in float32) and
// writes a complete Hugging Face model folder: config.json, model.safetensors, and the tokenizer,
// preprocessor and prompt files (the adapter's unirank_prompt.json wins over the base's). The folder
// appears atomically. The result scores as base + adapter does, without merging at load time.
#include "cli_common.h"

#include "core/model/loader.h"
#include "core/model/lora.h"
#include "core/util/atomic_file.h"

#include <iostream>

namespace fs = std::filesystem;

namespace unirank::cli {

void addMergeCommand(CLI::App &app)
{
    struct Args {
        std::string model, adapter, out;
    };
    auto a = std::make_shared<Args>();
    auto *cmd = app.add_subcommand("merge", "Merge a LoRA adapter into its base and export a full model folder");
    cmd->add_option("--model", a->model, "Base model folder")->required()->check(CLI::ExistingDirectory);
    cmd->add_option("--adapter", a->adapter, "PEFT adapter folder")->required()->check(CLI::ExistingDirectory);
    cmd->add_option("--out", a->out, "Folder to write (replaced atomically)")->required();
    cmd->callback([a] {
        auto model = require(model::loadQwen2VL(a->model));
        const auto info = require(model::mergeLoraAdapter(model, a->adapter));
        replaceDirectoryAtomically(a->out, [&](const fs::path &staging) {
            model::saveQwen2VL(model, staging);
            for (const char *name : {"tokenizer.json", "tokenizer_config.json", "preprocessor_config.json", "unirank_prompt.json",
                                     "generation_config.json", "special_tokens_map.json"}) {
                const auto fromAdapter = fs::path(a->adapter) / name, fromBase = fs::path(a->model) / name;
                if (std::string_view(name) == "unirank_prompt.json" && fs::exists(fromAdapter))
                    fs::copy_file(fromAdapter, staging / name);
                else if (fs::exists(fromBase))
                    fs::copy_file(fromBase, staging / name);
            }
        });
        std::cerr << "merged " << info.mergedModules << " LoRA layers (r = " << info.rank << ", scale " << info.scale
                  << ") into " << a->out << "\n";
    });
}

} // namespace unirank::cli
