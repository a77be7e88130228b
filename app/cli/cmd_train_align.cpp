// SPDX-License-Identifier: GPL-3.0-or-later
// unirank-cli train align --project FILE --model DIR [--adapter DIR] [--method pl-grpo|dpo] [--rounds N]
//                         [--collection NAME] [--config FILE.json] [--set KEY=VALUE ...] [--adapter-out DIR]
//                         [--resume] [--device cpu|cuda] [--json] [--events]
//
// Preference alignment (see core/training/align_trainer.h and align_config.h for every setting): the
// policy starts from --adapter (the instruction-tuned adapter; without one, fresh LoRA on --model, e.g.
// a fully fine-tuned instruction-tuned model), which is also the frozen reference. Each round mines
// hard negatives with the current policy; the round's preference set is written as TRL JSONL next to
// the checkpoints (<adapter-out>.checkpoints/).
// The run, its config, preference counts and per-step metrics go into the project; the best checkpoint
// (held-out pair accuracy within max_kl) is copied to --adapter-out and registered as a model version
// whose parent is the starting one. --json ends with one summary object.
#include "cli_training.h"

#include "core/scoring/scorer.h"
#include "core/training/training_job.h"
#include "core/util/atomic_file.h"
#include "core/training/checkpoints.h"
#include "storage/alignment_data.h"
#include "storage/dataset_export.h"
#include "storage/score_store.h"

#include <iostream>

namespace fs = std::filesystem;

namespace unirank::cli {
namespace {

struct AlignArgs {
    std::string project, model, adapter, collection, adapterOut, device = "cpu";
    SettingsOptions settings;
    std::string method = training::toString(training::kDefaultAlignMethod);
    std::int64_t rounds = 1;
    bool resume = false, json = false;
    std::int64_t minPixels = 0, maxPixels = 0;
};

void trainAlign(const AlignArgs &a)
{
    const auto method = training::parseAlignMethod(a.method);
    std::string settingsSource;
    const auto settings = trainingSettings(a.settings.config, a.settings.sets, settingsSource);
    const auto config = training::AlignConfig::fromJson(settings, settingsSource, method);
    auto project = openProject(a.project);
    auto &db = project->db();
    const auto collection = storage::resolveCollection(db, a.collection);
    const auto modelDir = fs::absolute(a.model);
    const auto adapterDir = a.adapter.empty() ? fs::path() : fs::absolute(a.adapter);
    const auto start = adapterDir.empty() ? modelDir : adapterDir;
    const auto adapterOut = defaultOutput(*project, a.adapterOut, a.method, start.filename().string());
    const fs::path outputDir = adapterOut.string() + ".checkpoints";
    if (!a.resume && !training::latestCheckpoint(outputDir).empty())
        throw InputError(outputDir.string() + ": holds checkpoints of an earlier run; pass --resume to continue it, or "
                                              "choose another --adapter-out");

    auto data = storage::buildAlignmentData(
        *project, collection,
        {config.relevance_threshold, config.use_human, config.use_derived, static_cast<std::size_t>(config.derived_pairs_per_query),
         static_cast<std::size_t>(config.max_candidates_per_query)});
    const auto preferenceStats = data.stats();
    auto [train, validation] = storage::splitAlignmentData(std::move(data), config.validation_split, config.seed);
    std::cerr << "preferences: " << preferenceStats.dump() << "; " << train.size() << " training and " << validation.size()
              << " held-out queries\n";

    std::cerr << "loading " << modelDir.string() << (adapterDir.empty() ? "" : " with " + adapterDir.string()) << "\n";
    auto model = require(scoring::loadScoringModel(modelDir, {model::parseDevice(a.device), torch::kFloat32, {}}));
    scoring::applyPixelBudget(*model, {a.minPixels, a.maxPixels});
    const auto baseVersion = storage::ensureModelVersion(db, modelDir.filename().string(), storage::ModelKind::Base,
                                                         modelDir.string(), model->baseWeightsHash);
    const auto startVersion =
        adapterDir.empty() ? baseVersion
                           : storage::ensureModelVersion(db, adapterDir.filename().string(), storage::ModelKind::Adapter, adapterDir.string(),
                                                         trainedWeightsHash(*model, adapterDir, false), baseVersion);
    const nlohmann::json recorded{{"method", a.method},           {"config", config.toJson()},
                                  {"preferences", preferenceStats},  {"rounds", a.rounds},
                                  {"output_dir", outputDir.string()}, {"adapter_out", adapterOut.string()},
                                  {"model", modelDir.string()},   {"adapter", adapterDir.string()},
                                  {"device", a.device},           {"train_queries", train.size()},
                                  {"validation_queries", validation.size()},
                                  {"min_pixels", model->imageConfig.minPixels}, {"max_pixels", model->imageConfig.maxPixels}};
    TrainingRecord record(*project, a.method, recorded, startVersion, a.resume, a.settings.events);
    training::AlignTrainer trainer(model, method, config, std::move(train), std::move(validation), outputDir, modelDir.string(),
                                   adapterDir, a.rounds);
    const auto r = runTrainingJob<training::AlignResult>(record, [&](const training::TrainCallbacks &cb) { return trainer.run(a.resume, cb); });
    nlohmann::json files = nlohmann::json::array();
    for (const auto &f : r.preferenceFiles)
        files.push_back(f.string());
    const bool published = !r.best.empty();
    const auto ifPublished = [&](double v) { return published ? nlohmann::json(v) : nlohmann::json(); };
    const auto reported = [&](double v, bool after) {
        return r.reportingQueries > 0 && (!after || published) ? nlohmann::json(v) : nlohmann::json();
    };
    // pair_accuracy_* and kl_*: the selection queries, which chose the published checkpoint;
    // report_*: the reporting queries, which chose nothing.
    nlohmann::json summary{{"method", a.method},
                           {"steps", r.steps},
                           {"reward_first", r.rewardFirst},
                           {"reward_last", r.rewardLast},
                           {"kl_last", r.final.kl},
                           {"kl_after", ifPublished(r.after.kl)},
                           {"pair_accuracy_before", r.before.pairAccuracy},
                           {"pair_accuracy_after", ifPublished(r.after.pairAccuracy)},
                           {"pair_accuracy_final", r.final.pairAccuracy},
                           {"held_out_pairs", r.before.pairs},
                           {"selection_queries", r.before.queries},
                           {"reporting_queries", r.reportingQueries},
                           {"report_pair_accuracy_before", reported(r.reportBefore.pairAccuracy, false)},
                           {"report_pair_accuracy_after", reported(r.reportAfter.pairAccuracy, true)},
                           {"report_kl_after", reported(r.reportAfter.kl, true)},
                           {"report_pairs", r.reportBefore.pairs},
                           {"training_pairs", r.trainingPairs},
                           {"stopped_by_kl", r.stoppedByKl},
                           {"kl_rollbacks", r.klRollbacks},
                           {"lr_scale", r.lrScale},
                           {"best_step", published ? nlohmann::json(r.bestStep) : nlohmann::json()},
                           {"not_published", r.notPublished.empty() ? nlohmann::json() : nlohmann::json(r.notPublished)},
                           {"preference_files", files},
                           {"training_run", record.id()},
                           {"cancelled", r.cancelled},
                           {"checkpoint", r.lastCheckpoint.string()}};
    if (r.cancelled) {
        record.cancelled();
        std::cerr << "cancelled at step " << r.steps << "; checkpoint " << r.lastCheckpoint.string() << " (--resume continues from it)\n";
        summary["adapter"] = nullptr;
        summary["model_version"] = nullptr;
    } else if (r.best.empty()) {
        record.completed(std::nullopt);
        std::cerr << "nothing published: " << r.notPublished << " (lower learning_rate, or raise max_kl)\n";
        summary["adapter"] = nullptr;
        summary["model_version"] = nullptr;
    } else {
        const auto source = config.full_finetune ? r.best / "model" : r.best;
        const auto hash = trainedWeightsHash(*model, source, config.full_finetune);
        const nlohmann::json metadata{{"training_run", record.id()},      {"method", a.method},
                                      {"pair_accuracy", r.after.pairAccuracy}, {"kl", r.after.kl},
                                      {"best_step", r.bestStep}};
        std::int64_t version = 0;
        const auto name = publishVersion(db, source, adapterOut, config.full_finetune ? storage::ModelKind::Merged : storage::ModelKind::Adapter,
                                         hash, startVersion, metadata, &version);
        record.completed(version);
        summary["adapter"] = adapterOut.string();
        summary["model_version"] = name;
        std::cerr << a.method << ": " << r.steps << " steps, reward " << r.rewardFirst << " -> " << r.rewardLast
                  << ", pair accuracy on the selection queries " << r.before.pairAccuracy << " -> " << r.after.pairAccuracy << " (KL "
                  << r.after.kl << ")";
        if (r.reportingQueries > 0)
            std::cerr << ", on the " << r.reportingQueries << " reporting queries " << r.reportBefore.pairAccuracy << " -> "
                      << r.reportAfter.pairAccuracy;
        std::cerr << "; adapter " << adapterOut.string() << " is model version '" << name << "'\n";
    }
    finishSummary(summary, a.json, a.settings.events);
}

} // namespace

void addAlignSubcommand(CLI::App &train)
{
    auto a = std::make_shared<AlignArgs>();
    auto *cmd = train.add_subcommand("align", "Preference alignment: DPO or Plackett-Luce GRPO against the instruction-tuned model");
    cmd->add_option("--project", a->project, "Project file")->required();
    cmd->add_option("--model", a->model, "Base model folder (or a fully fine-tuned model to align)")->required();
    cmd->add_option("--adapter", a->adapter, "Instruction-tuned PEFT adapter to start from (and the reference)")->check(CLI::ExistingDirectory);
    cmd->add_option("--method", a->method, "pl-grpo (default) or dpo")->check(CLI::IsMember({"dpo", "pl-grpo"}));
    cmd->add_option("--rounds", a->rounds, "Rounds of mining hard negatives and training")->check(CLI::Range(1, 100));
    cmd->add_option("--collection", a->collection, "Collection (default: the only one)");
    addSettingsOptions(*cmd, a->settings);
    cmd->add_option("--adapter-out", a->adapterOut, "Where the aligned adapter goes (default <project>.models/<method>-<start>)");
    cmd->add_flag("--resume", a->resume, "Continue from the newest checkpoint");
    cmd->add_option("--device", a->device, "cpu or cuda[:N]");
    addPixelBudgetOptions(*cmd, a->minPixels, a->maxPixels);
    cmd->add_flag("--json", a->json, "End with one JSON summary object on stdout");
    cmd->callback([a] { trainAlign(*a); });
}

} // namespace unirank::cli
