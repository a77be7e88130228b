// SPDX-License-Identifier: GPL-3.0-or-later
// unirank-cli train sft --project FILE --model DIR [--collection NAME] [--adapter-out DIR] [--config FILE.json]
//                       [--set KEY=VALUE ...] [--resume] [--device cpu|cuda] [--dtype fp32|bf16] [--json] [--events]
//
// Instruction tuning on a project collection's labels (see core/training/sft_config.h for every
// setting and its default). Checkpoints go to <adapter-out>.checkpoints/; --resume continues from the
// newest one. The run, its config and per-step metrics are recorded in the project; the best
// checkpoint (by validation pair accuracy) is copied to --adapter-out (a PEFT folder, or a full model
// with full_finetune) and registered as a model version whose parent is the base model. Ctrl+C stops
// at the next micro-batch and leaves a checkpoint. --json ends with one summary object.
#include "cli_training.h"

#include "core/scoring/scorer.h"
#include "core/training/training_job.h"
#include "core/util/atomic_file.h"
#include "storage/dataset_export.h"
#include "storage/repo/training.h"
#include "storage/score_store.h"
#include "storage/training_data.h"

#include <nlohmann/json.hpp>

#include <iostream>

namespace fs = std::filesystem;

namespace unirank::cli {
namespace {

struct Args {
    std::string project, model, collection, adapterOut, device = "cpu", dtype = "fp32";
    SettingsOptions settings;
    bool resume = false, json = false;
    std::int64_t minPixels = 0, maxPixels = 0;
};

void trainSft(const Args &a)
{
    std::string settingsSource;
    const auto settings = trainingSettings(a.settings.config, a.settings.sets, settingsSource);
    const auto config = training::SftConfig::fromJson(settings, settingsSource);
    auto project = openProject(a.project);
    auto &db = project->db();
    const auto collection = storage::resolveCollection(db, a.collection);
    const auto modelDir = fs::absolute(a.model);
    const auto adapterOut = defaultOutput(*project, a.adapterOut, "sft", modelDir.filename().string());
    const fs::path outputDir = adapterOut.string() + ".checkpoints";
    if (!a.resume && !training::SftTrainer::latestCheckpoint(outputDir).empty())
        throw InputError(outputDir.string() + ": holds checkpoints of an earlier run; pass --resume to continue it, or "
                                              "choose another --adapter-out");

    const auto data = storage::buildTrainingData(*project, collection,
                                                 {config.relevance_threshold, config.use_preferences, config.first_stage_negatives});
    std::vector<TrainGroup> train, validation;
    splitByQuery(data.groups, {config.validation_split, config.seed}, train, validation);
    std::cerr << "data: " << data.stats.dump() << "; " << train.size() << " training and " << validation.size()
              << " validation queries\n";

    std::cerr << "loading " << modelDir.string() << "\n";
    auto model = require(scoring::loadScoringModel(modelDir, {model::parseDevice(a.device), model::parseDtype(a.dtype), {}}));
    scoring::applyPixelBudget(*model, {a.minPixels, a.maxPixels});
    const auto baseVersion = storage::ensureModelVersion(db, modelDir.filename().string(), storage::ModelKind::Base,
                                                         modelDir.string(), model->baseWeightsHash);
    nlohmann::json recorded{{"config", config.toJson()},     {"data", data.stats},
                            {"output_dir", outputDir.string()}, {"adapter_out", adapterOut.string()},
                            {"model", modelDir.string()},      {"device", a.device},
                            {"dtype", a.dtype},                {"train_queries", train.size()},
                            {"validation_queries", validation.size()},
                            {"min_pixels", model->imageConfig.minPixels}, {"max_pixels", model->imageConfig.maxPixels}};
    TrainingRecord record(*project, "sft", recorded, baseVersion, a.resume, a.settings.events);
    const auto runId = record.id();
    training::SftTrainer trainer(model, config, std::move(train), std::move(validation), outputDir, modelDir.string());
    const auto r = runTrainingJob<training::SftResult>(record, [&](const training::TrainCallbacks &cb) { return trainer.run(a.resume, cb); });
    // Reporting queries' figures: null when the held-out queries were too few to set any aside.
    const auto reported = [&](double v) { return r.reportingQueries > 0 ? nlohmann::json(v) : nlohmann::json(); };
    nlohmann::json summary{{"steps", r.steps},
                           {"train_loss_first", r.firstLoss},
                           {"train_loss_last", r.lastLoss},
                           {"val_pair_accuracy_before", r.before.pairAccuracy},
                           {"val_pair_accuracy_after", r.bestPairAccuracy >= 0 ? r.bestPairAccuracy : r.after.pairAccuracy},
                           {"val_pair_accuracy_final", r.after.pairAccuracy},
                           {"best_step", r.bestStep},
                           {"reporting_queries", r.reportingQueries},
                           {"report_pair_accuracy_before", reported(r.reportBefore.pairAccuracy)},
                           {"report_pair_accuracy_after", r.best.empty() ? nlohmann::json() : reported(r.reportAfter.pairAccuracy)},
                           {"report_ndcg_cut_10_before", reported(r.reportBefore.ndcg10)},
                           {"report_ndcg_cut_10_after", r.best.empty() ? nlohmann::json() : reported(r.reportAfter.ndcg10)},
                           {"training_run", runId},
                           {"cancelled", r.cancelled},
                           {"checkpoint", r.lastCheckpoint.string()}};
    if (r.cancelled) {
        record.cancelled();
        std::cerr << "cancelled at step " << r.steps << "; checkpoint " << r.lastCheckpoint.string()
                  << " (--resume continues from it)\n";
        summary["adapter"] = nullptr;
        summary["model_version"] = nullptr;
    } else {
        const auto source = config.full_finetune ? r.best / "model" : r.best;
        const auto hash = trainedWeightsHash(*model, source, config.full_finetune);
        const nlohmann::json metadata{{"training_run", runId},
                                      {"method", "sft"},
                                      {"val_pair_accuracy", r.bestPairAccuracy >= 0 ? r.bestPairAccuracy : r.after.pairAccuracy},
                                      {"best_step", r.bestStep},
                                      {"val_ndcg_cut_10", r.after.ndcg10}};
        std::int64_t version = 0;
        const auto versionName = publishVersion(db, source, adapterOut,
                                                config.full_finetune ? storage::ModelKind::Merged : storage::ModelKind::Adapter, hash,
                                                baseVersion, metadata, &version);
        record.completed(version);
        summary["adapter"] = adapterOut.string();
        summary["model_version"] = versionName;
        std::cerr << "trained " << r.steps << " steps: loss " << r.firstLoss << " -> " << r.lastLoss;
        if (r.before.queries > 0)
            std::cerr << ", pair accuracy on the selection queries " << r.before.pairAccuracy << " -> "
                      << summary["val_pair_accuracy_after"] << " (best step " << r.bestStep << ")";
        if (r.reportingQueries > 0)
            std::cerr << ", on the " << r.reportingQueries << " reporting queries " << r.reportBefore.pairAccuracy << " -> "
                      << r.reportAfter.pairAccuracy;
        else
            std::cerr << " (no held-out queries: the last step is published)";
        std::cerr << "; " << (config.full_finetune ? "model " : "adapter ") << adapterOut.string() << " is model version '"
                  << versionName << "'\n";
    }
    finishSummary(summary, a.json, a.settings.events);
}

} // namespace

void addTrainCommand(CLI::App &app)
{
    auto *train = app.add_subcommand("train", "Adapt the reranker to the project's labels");
    train->require_subcommand(1);
    auto a = std::make_shared<Args>();
    auto *sft = train->add_subcommand("sft", "Instruction tuning: label-token SFT with LoRA or full fine-tuning");
    sft->add_option("--project", a->project, "Project file")->required();
    sft->add_option("--model", a->model, "Base model folder (config.json, weights, tokenizer.json)")->required();
    sft->add_option("--collection", a->collection, "Collection (default: the only one)");
    sft->add_option("--adapter-out", a->adapterOut, "Where the trained adapter goes (default <project>.models/sft-<model>)");
    addSettingsOptions(*sft, a->settings);
    sft->add_flag("--resume", a->resume, "Continue from the newest checkpoint");
    sft->add_option("--device", a->device, "cpu or cuda[:N]");
    sft->add_option("--dtype", a->dtype, "Weights: fp32 (use the config's bf16 for mixed precision)");
    addPixelBudgetOptions(*sft, a->minPixels, a->maxPixels);
    sft->add_flag("--json", a->json, "End with one JSON summary object on stdout");
    sft->callback([a] { trainSft(*a); });
    addAlignSubcommand(*train);
    addSettingsSubcommand(*train);
}

} // namespace unirank::cli
