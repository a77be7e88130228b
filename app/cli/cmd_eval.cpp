// SPDX-License-Identifier: GPL-3.0-or-later
// unirank-cli eval (--qrels FILE --run FILE [--run FILE ...] | --project FILE [--collection NAME]
//                  [--model-version NAME ...] [--no-store]) [--prefs FILE] [--metrics LIST] [--per-query]
//                  [--complete] [--relevance-level N] [--corpus DIR] [--calibration [--temperature T]]
//                  [--seed N] [--permutations N] [--json]
// trec_eval-exact metrics per run, paired comparisons against the first run, modality split and bias
// (--corpus: a BEIR folder giving each candidate's modality), agreement with human preferences
// (--prefs, trec_eval prefs format), calibration of scores read as logit margins. See core/eval.
// With --project: the collection's labels, first-stage list and newest score run per model version;
// the results are stored with each score run.
#include "cli_project.h"

#include "core/eval/report.h"
#include "core/formats/beir.h"
#include "core/formats/trec.h"
#include "storage/project_eval.h"

#include <iostream>
#include <set>
#include <sstream>

namespace unirank::cli {

void addEvalCommand(CLI::App &app)
{
    struct Args {
        std::string qrels, prefs, metrics, corpus, project, collection, baseline;
        std::vector<std::string> runs, modelVersions;
        bool perQuery = false, complete = false, calibration = false, json = false, noStore = false;
        int relevanceLevel = 1, permutations = 10000;
        double temperature = 1.0;
        std::uint64_t seed = 20261127;
    };
    auto a = std::make_shared<Args>();
    auto *cmd = app.add_subcommand("eval", "Evaluate runs like trec_eval, compare them, split by modality");
    cmd->add_option("--qrels", a->qrels, "Qrels (TREC or BEIR qrels.tsv)")->check(CLI::ExistingFile);
    cmd->add_option("--run", a->runs, "TREC run; repeat to compare (the first is the baseline)")->check(CLI::ExistingFile);
    cmd->add_option("--project", a->project, "Evaluate a project collection's score runs and store the results");
    cmd->add_option("--collection", a->collection, "Collection in the project (default: the only one)");
    cmd->add_option("--model-version", a->modelVersions, "Model versions to evaluate (default: all with a score run)");
    cmd->add_option("--baseline", a->baseline,
                    "With --project: the run the others are compared with (a version name or first-stage:<tag>)");
    cmd->add_flag("--no-store", a->noStore, "With --project: do not store the results");
    cmd->add_option("--prefs", a->prefs, "Human pairwise preferences (trec_eval prefs format)")->check(CLI::ExistingFile);
    cmd->add_option("--metrics", a->metrics, "Comma-separated trec_eval names, e.g. success_1,recall_10,ndcg_cut_10,map");
    cmd->add_flag("--per-query", a->perQuery, "Include per-query values (JSON)");
    cmd->add_flag("--complete", a->complete, "Count qrels queries missing from a run as 0 (trec_eval -c)");
    cmd->add_option("--relevance-level", a->relevanceLevel, "Grade counted as relevant (trec_eval -l)")->check(CLI::Range(1, 100));
    cmd->add_option("--corpus", a->corpus, "BEIR folder whose corpus gives each candidate's modality")->check(CLI::ExistingDirectory);
    cmd->add_flag("--calibration", a->calibration, "Calibration of scores read as logit margins");
    cmd->add_option("--temperature", a->temperature, "Temperature applied before calibration")->check(CLI::PositiveNumber);
    cmd->add_option("--seed", a->seed, "Seed of the randomisation and bootstrap");
    cmd->add_option("--permutations", a->permutations, "Randomisation test permutations")->check(CLI::Range(100, 10000000));
    cmd->add_flag("--json", a->json, "Print every number as JSON");
    cmd->callback([a] {
        eval::ReportOptions o;
        o.eval.relevanceLevel = a->relevanceLevel;
        o.eval.complete = a->complete;
        if (!a->metrics.empty()) {
            std::stringstream list(a->metrics);
            for (std::string m; std::getline(list, m, ',');)
                if (!m.empty()) {
                    eval::checkMetricName(m);
                    o.eval.metrics.push_back(m);
                }
        }
        o.perQuery = a->perQuery;
        o.calibration = a->calibration;
        o.temperature = a->temperature;
        o.seed = a->seed;
        o.permutations = a->permutations;
        if (!a->project.empty()) {
            if (!a->qrels.empty() || !a->runs.empty() || !a->prefs.empty() || !a->corpus.empty())
                throw InputError("--project takes its labels, runs, preferences and modalities from the project; "
                                 "do not combine it with --qrels, --run, --prefs or --corpus");
            auto project = openProject(a->project);
            const auto report = require(storage::evaluateProject(
                *project, {a->collection, a->modelVersions, a->baseline, o, !a->noStore}));
            std::cout << (a->json ? report.json.dump(1) + "\n" : report.text);
            return;
        }
        if (a->qrels.empty() || a->runs.empty())
            throw InputError("give --qrels and at least one --run, or --project");
        const auto qrels = eval::toQrels(readQrels(a->qrels, {-1, 1000}));
        std::vector<eval::NamedRun> runs;
        std::set<std::string> names;
        for (const auto &file : a->runs) {
            auto name = std::filesystem::path(file).stem().string();
            for (int i = 2; names.contains(name); ++i)
                name = std::filesystem::path(file).stem().string() + "#" + std::to_string(i);
            names.insert(name);
            runs.push_back({name, eval::toRun(readRun(file))});
        }
        if (!a->prefs.empty())
            o.preferences = eval::readTrecPrefs(a->prefs);
        if (!a->corpus.empty()) {
            eval::Modalities m;
            for (const auto &c : readBeirFolder(a->corpus).candidates)
                m[c.id] = c.modality;
            o.modalities = std::move(m);
        }
        const auto report = eval::evaluateRuns(qrels, runs, o);
        if (a->json)
            std::cout << report.json.dump(1) << "\n";
        else
            std::cout << report.text;
    });
}

} // namespace unirank::cli
