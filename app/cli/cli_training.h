// SPDX-License-Identifier: GPL-3.0-or-later
// What `train sft` and `train align` share: the settings (--config and --set), the training run's
// record in the project (continued on --resume, metrics written from the worker through a second
// connection, status at the end), Ctrl+C as cancellation, progress lines, and publishing the best
// checkpoint as a registered model version.
//
// With --events a training command also writes one JSON object per line on stdout, for the Train tab
// (and any other front end); stderr keeps the human lines. Every object has "event":
//   start     training_run, kind, output_dir, adapter_out, train_queries, validation_queries
//   progress  step, total_steps, epoch, loss, learning_rate, grad_norm, elapsed_s, eta_s
//   metrics   step, values {name: number}  (the same values go into the project)
//   log       message
//   error     message, kind (bad_input | internal)
//   summary   the --json summary object's fields
// Lines are written whole and flushed; a number that is not finite is written as null.
#pragma once

#include "cli_project.h"

#include "core/training/training_job.h"
#include "storage/repo/models.h"

#include <nlohmann/json.hpp>

#include <csignal>
#include <filesystem>

namespace unirank::cli {

/// The settings object of a training command: --config's JSON object (or {}) with each `--set KEY=VALUE`
/// on top, VALUE read as JSON when it parses and as a string otherwise. `source` is set to what errors
/// should name. Throws InputError for a malformed --set.
nlohmann::json trainingSettings(const std::string &configFile, const std::vector<std::string> &sets, std::string &source);

/// Writes one --events line (thread-safe).
void writeEvent(const std::string &event, nlohmann::json fields);

/// The training run row of this output folder: the newest unfinished one of `kind` on --resume,
/// else a new one. Owns the metrics connection the callbacks use.
class TrainingRecord {
public:
    TrainingRecord(storage::Project &project, const std::string &kind, const nlohmann::json &recorded,
                   std::int64_t baseVersion, bool resume, bool events);
    std::int64_t id() const { return m_id; }
    bool events() const { return m_events; }
    /// Progress on stderr, metrics into the project, log lines on stderr, Ctrl+C as cancellation; the
    /// same as --events lines when asked for.
    training::TrainCallbacks callbacks();
    void failed(const std::string &error);
    void cancelled();
    void completed(std::optional<std::int64_t> version);

private:
    storage::Database &m_db;
    storage::Database m_metrics;
    std::int64_t m_id = 0;
    bool m_events = false;
};

/// SIGINT sets the flag TrainingRecord's callbacks poll, while alive.
class InterruptScope {
public:
    InterruptScope();
    ~InterruptScope();
    InterruptScope(const InterruptScope &) = delete;
    InterruptScope &operator=(const InterruptScope &) = delete;

private:
    void (*m_previous)(int);
};

/// Runs `run` on a training job's worker with the record's callbacks and Ctrl+C as cancellation; a
/// failure marks the run failed and throws CommandFailed.
template <typename R>
R runTrainingJob(TrainingRecord &record, std::function<R(const training::TrainCallbacks &)> run)
{
    InterruptScope interrupt;
    training::BasicTrainingJob<R> job(std::move(run), record.callbacks());
    auto outcome = job.wait();
    if (!outcome) {
        record.failed(outcome.error().message);
        if (record.events())
            writeEvent("error", {{"message", outcome.error().message},
                                 {"kind", outcome.error().kind == ErrorKind::BadInput ? "bad_input" : "internal"}});
        throw CommandFailed{outcome.error()};
    }
    return std::move(*outcome);
}

/// The identity `score --adapter` records for a trained folder: its own weights' hash for a full
/// model, the base's combined with the adapter's otherwise.
std::string trainedWeightsHash(const scoring::ScoringModel &base, const std::filesystem::path &folder, bool fullModel);

/// Copies `source`'s files to `destination` atomically and registers it as a model version under
/// `parent`; returns the version's name.
std::string publishVersion(storage::Database &db, const std::filesystem::path &source, const std::filesystem::path &destination,
                           storage::ModelKind kind, const std::string &contentHash, std::int64_t parent,
                           const nlohmann::json &metadata, std::int64_t *versionId = nullptr);

/// `project.sideFolder("models")/<prefix>-<name>` (beside a project file, or in a server project's shared
/// folder) unless `given` names a folder.
std::filesystem::path defaultOutput(const storage::Project &project, const std::string &given, const std::string &prefix,
                                    const std::string &name);

} // namespace unirank::cli

namespace unirank::cli {
/// `train align` (cmd_train_align.cpp).
void addAlignSubcommand(CLI::App &train);
/// `train settings`: every setting of a stage with its default and meaning (cmd_train_settings.cpp).
void addSettingsSubcommand(CLI::App &train);
/// The options both training commands take: --config, --set, --events.
struct SettingsOptions {
    std::string config;
    std::vector<std::string> sets;
    bool events = false;
};
void addSettingsOptions(CLI::App &cmd, SettingsOptions &options);
/// Ends a training command: the summary as an event and/or the --json line.
void finishSummary(const nlohmann::json &summary, bool json, bool events);
} // namespace unirank::cli
