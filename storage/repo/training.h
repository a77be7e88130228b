// SPDX-License-Identifier: GPL-3.0-or-later
// Training runs (SFT, DPO, PL-GRPO): config, status with timestamps, per-step metrics.
#pragma once

#include "storage/db/database.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace unirank::storage {

enum class TrainingStatus { Pending, Running, Completed, Failed, Cancelled };
std::string_view toString(TrainingStatus status);

struct TrainingRunRow {
    std::int64_t id = 0;
    std::string kind; ///< sft | dpo | pl-grpo
    nlohmann::json config;
    TrainingStatus status = TrainingStatus::Pending;
    std::optional<std::int64_t> baseModelVersionId;
    std::optional<std::int64_t> resultModelVersionId;
    std::string error;
    std::string createdAt;
    std::optional<std::string> startedAt;
    std::optional<std::string> finishedAt;
};

struct TrainingMetric {
    std::int64_t step = 0;
    std::string name;
    double value = 0;
};

std::int64_t insertTrainingRun(Database &db, const std::string &kind, const nlohmann::json &config,
                               std::optional<std::int64_t> baseModelVersionId);
/// Running sets started_at; Completed/Failed/Cancelled set finished_at.
void setTrainingStatus(Database &db, std::int64_t runId, TrainingStatus status, const std::string &error = {},
                       std::optional<std::int64_t> resultModelVersionId = std::nullopt);
std::optional<TrainingRunRow> findTrainingRun(Database &db, std::int64_t runId);
/// Every run, newest first.
std::vector<TrainingRunRow> listTrainingRuns(Database &db);
/// Inserts or replaces (a resumed run may log a step again).
void insertTrainingMetric(Database &db, std::int64_t runId, const TrainingMetric &metric);
std::vector<TrainingMetric> trainingMetrics(Database &db, std::int64_t runId);

} // namespace unirank::storage
