// SPDX-License-Identifier: GPL-3.0-or-later
#include "storage/repo/training.h"

namespace unirank::storage {
namespace {

TrainingStatus statusFromString(const std::string &s)
{
    if (s == "running")
        return TrainingStatus::Running;
    if (s == "completed")
        return TrainingStatus::Completed;
    if (s == "failed")
        return TrainingStatus::Failed;
    if (s == "cancelled")
        return TrainingStatus::Cancelled;
    return TrainingStatus::Pending;
}

} // namespace

std::string_view toString(TrainingStatus status)
{
    switch (status) {
    case TrainingStatus::Pending: return "pending";
    case TrainingStatus::Running: return "running";
    case TrainingStatus::Completed: return "completed";
    case TrainingStatus::Failed: return "failed";
    case TrainingStatus::Cancelled: return "cancelled";
    }
    return "pending";
}

std::int64_t insertTrainingRun(Database &db, const std::string &kind, const nlohmann::json &config,
                               std::optional<std::int64_t> baseModelVersionId)
{
    return db.cached("INSERT INTO training_runs (kind, config, base_model_version_id) VALUES (?1, ?2, ?3) RETURNING id")
        .bindAll(kind, config.dump(), baseModelVersionId)
        .runReturningId();
}

void setTrainingStatus(Database &db, std::int64_t runId, TrainingStatus status, const std::string &error,
                       std::optional<std::int64_t> resultModelVersionId)
{
    const bool finished = status == TrainingStatus::Completed || status == TrainingStatus::Failed ||
                          status == TrainingStatus::Cancelled;
    db.cached("UPDATE training_runs SET status = ?2, error = ?3, "
              "result_model_version_id = coalesce(?4, result_model_version_id), "
              "started_at = CASE WHEN ?2 = 'running' THEN " + std::string(kNowSql) + " ELSE started_at END, "
              "finished_at = CASE WHEN ?5 = 1 THEN " + kNowSql + " ELSE finished_at END "
              "WHERE id = ?1")
        .bindAll(runId, toString(status), error, resultModelVersionId, finished ? 1 : 0)
        .run();
}

namespace {

constexpr const char *kSelectRun = "SELECT id, kind, config, status, base_model_version_id, result_model_version_id, error, "
                                   "created_at, started_at, finished_at FROM training_runs ";

TrainingRunRow readRun(const Statement &s)
{
    return TrainingRunRow{s.columnInt(0),         s.columnText(1),         nlohmann::json::parse(s.columnText(2)),
                          statusFromString(s.columnText(3)), s.columnOptionalInt(4), s.columnOptionalInt(5),
                          s.columnText(6),        s.columnText(7),         s.columnOptionalText(8),
                          s.columnOptionalText(9)};
}

} // namespace

std::optional<TrainingRunRow> findTrainingRun(Database &db, std::int64_t runId)
{
    auto &s = db.cached(std::string(kSelectRun) + "WHERE id = ?1");
    s.bind(1, runId);
    std::optional<TrainingRunRow> row;
    if (s.step())
        row = readRun(s);
    s.reset();
    return row;
}

std::vector<TrainingRunRow> listTrainingRuns(Database &db)
{
    return db.cached(std::string(kSelectRun) + "ORDER BY id DESC").collect([](const Statement &s) { return readRun(s); });
}

void insertTrainingMetric(Database &db, std::int64_t runId, const TrainingMetric &m)
{
    db.cached("INSERT INTO training_metrics (training_run_id, step, name, value) VALUES (?1, ?2, ?3, ?4) "
              "ON CONFLICT (training_run_id, step, name) DO UPDATE SET value = excluded.value")
        .bindAll(runId, m.step, m.name, m.value)
        .run();
}

std::vector<TrainingMetric> trainingMetrics(Database &db, std::int64_t runId)
{
    return db.cached("SELECT step, name, value FROM training_metrics WHERE training_run_id = ?1 ORDER BY step, name")
        .bind(1, runId)
        .collect([](const Statement &s) { return TrainingMetric{s.columnInt(0), s.columnText(1), s.columnDouble(2)}; });
}

} // namespace unirank::storage
