// SPDX-License-Identifier: GPL-3.0-or-later
// unirank-cli import PROJECT --dataset DIR [--collection NAME] [--json]
#include "cli_project.h"

#include "storage/dataset_import.h"

#include <nlohmann/json.hpp>

#include <iostream>

namespace unirank::cli {

void addImportCommand(CLI::App &app)
{
    struct Args {
        std::string project, dataset, collection;
        bool json = false;
    };
    auto args = std::make_shared<Args>();
    auto *cmd = app.add_subcommand("import", "Import a BEIR-style dataset folder as a new collection (all or nothing)");
    cmd->add_option("PROJECT", args->project, "Project file")->required();
    cmd->add_option("--dataset", args->dataset, "Folder with corpus.jsonl, queries.jsonl, qrels.tsv [, run.trec]")
        ->required();
    cmd->add_option("--collection", args->collection, "Collection name (default: <parent>/<folder>)");
    cmd->add_flag("--json", args->json, "Print the summary as JSON");
    cmd->callback([args] {
        auto project = openProject(args->project);
        storage::ImportOptions options;
        options.collectionName = args->collection;
        const auto s = require(storage::importDataset(*project, args->dataset, options));
        if (args->json) {
            nlohmann::ordered_json j{{"collection", s.collectionName},   {"queries", s.queries},
                                     {"candidates", s.candidates},       {"images", s.images},
                                     {"new_media_files", s.newMediaFiles}, {"qrels", s.qrels},
                                     {"run_entries", s.runEntries},      {"read_seconds", s.readSeconds},
                                     {"write_seconds", s.writeSeconds}};
            std::cout << j.dump(2) << "\n";
        } else {
            std::cout << "imported '" << s.collectionName << "': " << s.queries << " queries, " << s.candidates
                      << " candidates (" << s.images << " images), " << s.qrels << " judgements, " << s.runEntries
                      << " first-stage list entries\n";
        }
    });
}

} // namespace unirank::cli
