// SPDX-License-Identifier: GPL-3.0-or-later
// unirank-cli demo PROJECT [--dataset DIR] [--model DIR ...] [--replace] [--device cpu|cuda]
//
// Builds the demo project: creates PROJECT, imports the embedded demo data set (resources/demo/
// clipart-smoke: 20 queries over public-domain clip art and texts), reranks every list with each model
// and stores the runs, then evaluates the first stage and the models against the labels and stores
// that too. The default models, both trained by our own pipeline: clipart-tiny (tuned on other
// clipart-hybrid queries: it has not seen these, the one to train from in the Train tab) and then
// clipart-demo (tuned on these queries' labels: it ranks them sensibly, and as the version scored
// last it is the one the app shows first). The desktop app's Help > Open Demo Project runs this
// command. A failed build removes what it made.
#include "cli_score.h"

#include "storage/dataset_import.h"
#include "storage/project_eval.h"

#include <iostream>

namespace fs = std::filesystem;

namespace unirank::cli {
namespace {

struct DemoArgs {
    std::string project, dataset, device = "cpu";
    std::vector<std::string> models;
    bool replace = false;
};

/// The project file and the folders beside it that UniRank creates.
std::vector<fs::path> projectFiles(const fs::path &file)
{
    const auto dir = file.parent_path();
    const auto stem = file.stem().string();
    return {file, fs::path(file.string() + "-wal"), fs::path(file.string() + "-shm"), storage::Project::mediaFolderFor(file),
            dir / (stem + ".cache"), dir / (stem + ".models")};
}

void buildDemo(const DemoArgs &a)
{
    const auto file = fs::absolute(a.project);
    if (file.extension() != ".unirank")
        throw InputError(a.project + ": a project file ends in .unirank");
    const auto resources = a.dataset.empty() || a.models.empty() ? resourceDir() : fs::path();
    const auto dataset = a.dataset.empty() ? resources / "demo" / "clipart-smoke" : fs::path(a.dataset);
    std::vector<fs::path> models;
    for (const auto &m : a.models)
        models.push_back(fs::absolute(m));
    if (models.empty())
        models = {resources / "models" / "clipart-tiny", resources / "models" / "clipart-demo"};
    if (fs::exists(file)) {
        if (!a.replace)
            throw InputError(file.string() + ": already exists; open it, or pass --replace to build it again");
        for (const auto &p : projectFiles(file))
            fs::remove_all(p);
    }
    fs::create_directories(file.parent_path());
    try {
        std::cerr << "creating " << file.string() << "\n";
        {
            auto project = require(storage::Project::create(file));
            std::cerr << "importing " << dataset.string() << "\n";
            const auto imported = require(storage::importDataset(*project, dataset, {"demo", "demo", {}}));
            std::cerr << "imported " << imported.queries << " queries, " << imported.candidates << " candidates ("
                      << imported.images << " images), " << imported.qrels << " graded labels\n";
        }
        for (const auto &model : models) {
            std::cerr << "ranking every list with " << model.filename().string() << "\n";
            ScoreArgs score;
            score.model = model.string();
            score.project = file.string();
            score.device = a.device;
            runScore(score);
        }
        auto project = openProject(file.string());
        storage::ProjectEvalOptions options;
        options.report.eval.metrics = {"success_1", "recip_rank_cut_10", "ndcg_cut_10", "map"};
        const auto report = require(storage::evaluateProject(*project, options));
        std::cout << report.text;
    } catch (...) {
        for (const auto &p : projectFiles(file))
            fs::remove_all(p);
        throw;
    }
    std::cout << "demo project: " << file.string() << "\n";
}

} // namespace

void addDemoCommand(CLI::App &app)
{
    auto a = std::make_shared<DemoArgs>();
    auto *cmd = app.add_subcommand("demo", "Build the demo project: import the embedded data set, rank it with the demo model, evaluate");
    cmd->add_option("PROJECT", a->project, "Project file to create (*.unirank)")->required();
    cmd->add_option("--dataset", a->dataset, "BEIR folder (default: the embedded demo data set)")->check(CLI::ExistingDirectory);
    cmd->add_option("--model", a->models, "Model folder to rank with, repeatable (default: clipart-tiny, then clipart-demo)")
        ->check(CLI::ExistingDirectory);
    cmd->add_flag("--replace", a->replace, "Remove an existing PROJECT (and its media, cache and models folders) first");
    cmd->add_option("--device", a->device, "cpu or cuda[:N]");
    cmd->callback([a] { buildDemo(*a); });
}

} // namespace unirank::cli
