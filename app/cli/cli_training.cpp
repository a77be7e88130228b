// SPDX-License-Identifier: GPL-3.0-or-later
#include "cli_training.h"

#include "core/util/atomic_file.h"
#include "core/util/json_text.h"
#include "core/util/sha256.h"
#include "storage/model_publish.h"
#include "storage/repo/models.h"
#include "storage/repo/training.h"
#include "storage/score_store.h"

#include <atomic>
#include <cmath>
#include <iostream>
#include <mutex>

namespace fs = std::filesystem;

namespace unirank::cli {
namespace {

std::atomic<bool> g_interrupted{false};

extern "C" void onInterrupt(int) { g_interrupted = true; }

/// The newest unfinished run of `kind` that wrote to the same output folder.
std::optional<std::int64_t> unfinishedRun(storage::Database &db, const std::string &kind, const std::string &outputDir)
{
    auto s = db.prepare("SELECT id, config FROM training_runs WHERE kind = ?1 AND status <> 'completed' ORDER BY id DESC");
    s.bind(1, kind);
    while (s.step())
        if (nlohmann::json::parse(s.columnText(1)).value("output_dir", std::string()) == outputDir)
            return s.columnInt(0);
    return std::nullopt;
}

/// A finite number, or null (JSON has no NaN or infinity).
nlohmann::json number(double v) { return std::isfinite(v) ? nlohmann::json(v) : nlohmann::json(); }

} // namespace

nlohmann::json trainingSettings(const std::string &configFile, const std::vector<std::string> &sets, std::string &source)
{
    nlohmann::json settings = nlohmann::json::object();
    source = configFile.empty() ? "--set" : configFile;
    if (!configFile.empty()) {
        settings = readJsonFile(configFile);
        if (!settings.is_object())
            throw InputError(configFile + ": the training configuration must be a JSON object");
    }
    for (const auto &set : sets) {
        const auto eq = set.find('=');
        if (eq == std::string::npos || eq == 0)
            throw InputError("--set " + set + ": expected KEY=VALUE");
        const auto key = set.substr(0, eq), text = set.substr(eq + 1);
        auto value = nlohmann::json::parse(text, nullptr, false);
        settings[key] = value.is_discarded() ? nlohmann::json(text) : value;
        if (!configFile.empty())
            source = configFile + " and --set";
    }
    return settings;
}

void writeEvent(const std::string &event, nlohmann::json fields)
{
    static std::mutex mutex;
    fields["event"] = event;
    const auto line = fields.dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
    const std::lock_guard lock(mutex);
    std::cout << line << '\n' << std::flush;
}

void addSettingsOptions(CLI::App &cmd, SettingsOptions &options)
{
    cmd.add_option("--config", options.config, "JSON with training settings (Hugging Face / TRL names)")->check(CLI::ExistingFile);
    cmd.add_option("--set", options.sets, "KEY=VALUE over --config, repeatable (`train settings` lists the keys)");
    cmd.add_flag("--events", options.events, "Also write progress, metrics and the summary as JSON lines on stdout");
}

void finishSummary(const nlohmann::json &summary, bool json, bool events)
{
    if (events)
        writeEvent("summary", summary);
    else if (json)
        std::cout << summary.dump() << "\n";
}

TrainingRecord::TrainingRecord(storage::Project &project, const std::string &kind, const nlohmann::json &recorded,
                               std::int64_t baseVersion, bool resume, bool events)
    : m_db(project.db()), m_metrics(project.openConnection()), m_events(events)
{
    const auto previous = resume ? unfinishedRun(m_db, kind, recorded.value("output_dir", std::string())) : std::nullopt;
    m_id = previous ? *previous : storage::insertTrainingRun(m_db, kind, recorded, baseVersion);
    storage::setTrainingStatus(m_db, m_id, storage::TrainingStatus::Running);
    if (m_events)
        writeEvent("start", {{"training_run", m_id},
                             {"kind", kind},
                             {"resumed", previous.has_value()},
                             {"output_dir", recorded.value("output_dir", std::string())},
                             {"adapter_out", recorded.value("adapter_out", std::string())},
                             {"train_queries", recorded.value("train_queries", 0)},
                             {"validation_queries", recorded.value("validation_queries", 0)}});
}

training::TrainCallbacks TrainingRecord::callbacks()
{
    training::TrainCallbacks cb;
    const bool events = m_events;
    cb.onProgress = [events](const training::TrainProgress &p) {
        std::cerr << "step " << p.step << "/" << p.totalSteps << "  epoch " << p.epoch << "  loss " << p.loss << "  lr "
                  << p.learningRate << "  eta " << static_cast<long>(p.etaSeconds) << " s\n";
        if (events)
            writeEvent("progress", {{"step", p.step},
                                    {"total_steps", p.totalSteps},
                                    {"epoch", number(p.epoch)},
                                    {"loss", number(p.loss)},
                                    {"learning_rate", number(p.learningRate)},
                                    {"grad_norm", number(p.gradNorm)},
                                    {"elapsed_s", number(p.elapsedSeconds)},
                                    {"eta_s", number(p.etaSeconds)}});
    };
    cb.onMetrics = [this, events](std::int64_t step, const std::vector<std::pair<std::string, double>> &values) {
        storage::Transaction tx(m_metrics);
        for (const auto &[name, value] : values)
            storage::insertTrainingMetric(m_metrics, m_id, {step, name, value});
        tx.commit();
        if (events) {
            nlohmann::json named = nlohmann::json::object();
            for (const auto &[name, value] : values)
                named[name] = number(value);
            writeEvent("metrics", {{"step", step}, {"values", named}});
        }
    };
    cb.onLog = [events](const std::string &line) {
        std::cerr << line << "\n";
        if (events)
            writeEvent("log", {{"message", line}});
    };
    cb.cancelled = [] { return g_interrupted.load(); };
    return cb;
}

void TrainingRecord::failed(const std::string &error) { storage::setTrainingStatus(m_db, m_id, storage::TrainingStatus::Failed, error); }
void TrainingRecord::cancelled() { storage::setTrainingStatus(m_db, m_id, storage::TrainingStatus::Cancelled); }
void TrainingRecord::completed(std::optional<std::int64_t> version)
{
    storage::setTrainingStatus(m_db, m_id, storage::TrainingStatus::Completed, {}, version);
}

InterruptScope::InterruptScope() : m_previous(std::signal(SIGINT, onInterrupt)) {}
InterruptScope::~InterruptScope() { std::signal(SIGINT, m_previous); }

std::string publishVersion(storage::Database &db, const fs::path &source, const fs::path &destination, storage::ModelKind kind,
                           const std::string &contentHash, std::int64_t parent, const nlohmann::json &metadata,
                           std::int64_t *versionId)
{
    const auto published = storage::publishModelFolder(db, source, destination, kind, contentHash, parent, metadata);
    if (versionId)
        *versionId = published.id;
    return published.name;
}

std::string trainedWeightsHash(const scoring::ScoringModel &base, const fs::path &folder, bool fullModel)
{
    return fullModel ? scoring::weightsHashOf(folder) : sha256Hex(base.baseWeightsHash + "+" + scoring::weightsHashOf(folder));
}

fs::path defaultOutput(const storage::Project &project, const std::string &given, const std::string &prefix,
                       const std::string &name)
{
    if (!given.empty())
        return fs::absolute(given);
    return project.sideFolder("models") / (prefix + "-" + name);
}

} // namespace unirank::cli
