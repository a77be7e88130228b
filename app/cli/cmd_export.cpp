// SPDX-License-Identifier: GPL-3.0-or-later
// unirank-cli export PROJECT (--qrels FILE | --run FILE --model-version V | --prefs FILE | --trl FILE |
//                             --dataset DIR) [--collection NAME]
#include "cli_project.h"

#include "storage/dataset_export.h"

#include <iostream>

namespace unirank::cli {

void addExportCommand(CLI::App &app)
{
    struct Args {
        std::string project, qrels, run, modelVersion, prefs, trl, dataset, collection;
    };
    auto a = std::make_shared<Args>();
    auto *cmd = app.add_subcommand("export", "Export judgements, runs, preferences or the whole dataset (atomically)");
    cmd->add_option("PROJECT", a->project, "Project file")->required();
    auto *qrels = cmd->add_option("--qrels", a->qrels, "TREC qrels file (newest graded label per pair)");
    auto *run = cmd->add_option("--run", a->run, "TREC run file (scores strictly decreasing per query)");
    auto *mv = cmd->add_option("--model-version", a->modelVersion,
                               "Model version whose newest score run to export, or 'first-stage'");
    auto *prefs = cmd->add_option("--prefs", a->prefs, "Pairwise labels in trec_eval's prefs format");
    auto *trl = cmd->add_option("--trl", a->trl, "Preference pairs as TRL JSONL (prompt, chosen, rejected)");
    auto *dataset = cmd->add_option("--dataset", a->dataset, "BEIR folder (corpus, queries, qrels, run, images)");
    cmd->add_option("--collection", a->collection, "Collection to export (needed when the project has several)");
    run->needs(mv);
    mv->needs(run);
    for (auto *x : {qrels, run, prefs, trl, dataset})
        for (auto *y : {qrels, run, prefs, trl, dataset})
            if (x != y)
                x->excludes(y);
    cmd->callback([a, qrels, run, prefs, trl, dataset] {
        if (!*qrels && !*run && !*prefs && !*trl && !*dataset)
            throw CommandFailed{{ErrorKind::BadInput, "export: choose one of --qrels, --run, --prefs, --trl, --dataset"}};
        auto project = openProject(a->project);
        std::size_t n = 0;
        std::string what, where;
        if (*qrels) {
            n = require(storage::exportQrels(*project, a->qrels, a->collection));
            what = "judgements", where = a->qrels;
        } else if (*run) {
            n = require(storage::exportRun(*project, a->run, a->modelVersion, a->collection));
            what = "run lines", where = a->run;
        } else if (*prefs) {
            n = require(storage::exportPrefs(*project, a->prefs, a->collection));
            what = "preference pairs", where = a->prefs;
        } else if (*trl) {
            n = require(storage::exportTrl(*project, a->trl, a->collection));
            what = "TRL pairs", where = a->trl;
        } else {
            n = require(storage::exportDataset(*project, a->dataset, a->collection));
            what = "candidates", where = a->dataset;
        }
        std::cout << "wrote " << n << " " << what << " to " << where << "\n";
    });
}

} // namespace unirank::cli
