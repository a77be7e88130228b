// SPDX-License-Identifier: GPL-3.0-or-later
#include "cli_training.h"

#include "core/util/atomic_file.h"
#include "core/util/sha256.h"
#include "storage/repo/models.h"
#include "storage/repo/training.h"
#include "storage/score_store.h"

#include <atomic>
#include <iostream>

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

} // namespace

TrainingRecord::TrainingRecord(storage::Project &project, const std::string &kind, const nlohmann::json &recorded,
                               std::int64_t baseVersion, bool resume)
    : m_db(project.db()), m_metrics(project.openConnection())
{
    const auto previous = resume ? unfinishedRun(m_db, kind, recorded.value("output_dir", std::string())) : std::nullopt;
    m_id = previous ? *previous : storage::insertTrainingRun(m_db, kind, recorded, baseVersion);
    storage::setTrainingStatus(m_db, m_id, storage::TrainingStatus::Running);
}

training::TrainCallbacks TrainingRecord::callbacks()
{
    training::TrainCallbacks cb;
    cb.onProgress = [](const training::TrainProgress &p) {
        std::cerr << "step " << p.step << "/" << p.totalSteps << "  epoch " << p.epoch << "  loss " << p.loss << "  lr "
                  << p.learningRate << "  eta " << static_cast<long>(p.etaSeconds) << " s\n";
    };
    cb.onMetrics = [this](std::int64_t step, const std::vector<std::pair<std::string, double>> &values) {
        storage::Transaction tx(m_metrics);
        for (const auto &[name, value] : values)
            storage::insertTrainingMetric(m_metrics, m_id, {step, name, value});
        tx.commit();
    };
    cb.onLog = [](const std::string &line) { std::cerr << line << "\n"; };
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
    replaceDirectoryAtomically(destination, [&](const fs::path &staging) {
        for (const auto &e : fs::directory_iterator(source))
            fs::copy(e.path(), staging / e.path().filename(), fs::copy_options::recursive);
    });
    const auto version = storage::ensureModelVersion(db, destination.filename().string(), kind, destination.string(), contentHash,
                                                     parent, metadata);
    if (versionId)
        *versionId = version;
    for (const auto &v : storage::listModelVersions(db))
        if (v.id == version)
            return v.name;
    return destination.filename().string();
}

std::string trainedWeightsHash(const scoring::ScoringModel &base, const fs::path &folder, bool fullModel)
{
    return fullModel ? scoring::weightsHashOf(folder) : sha256Hex(base.baseWeightsHash + "+" + scoring::weightsHashOf(folder));
}

fs::path defaultOutput(const std::string &project, const std::string &given, const std::string &prefix, const std::string &name)
{
    if (!given.empty())
        return fs::absolute(given);
    return fs::absolute(project).parent_path() / (fs::path(project).stem().string() + ".models") / (prefix + "-" + name);
}

} // namespace unirank::cli
