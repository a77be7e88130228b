// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/training_run_loader.h"

#include "storage/db/database.h"
#include "ui/async_result.h"

namespace unirank::ui {

void TrainingRunLoader::loadRuns(const std::string &file)
{
    const auto generation = ++m_runsGeneration;
    runThenDeliver(
        this,
        [file] {
            Runs out;
            try {
                auto db = storage::Database::open(file, storage::Database::Mode::ReadOnly);
                out.runs = storage::listTrainingRuns(db);
            } catch (const std::exception &e) {
                out.error = QString::fromUtf8(e.what());
            }
            return out;
        },
        [this, generation](const Runs &runs) {
            if (generation == m_runsGeneration)
                emit runsLoaded(runs);
        });
}

void TrainingRunLoader::loadRun(const std::string &file, std::int64_t runId, bool withMetrics)
{
    // A newer read of the same run must not drop the metrics an older one was asked for.
    if (m_metricsPending == runId)
        withMetrics = true;
    m_metricsPending = withMetrics ? std::optional(runId) : std::nullopt;
    const auto generation = ++m_runGeneration;
    runThenDeliver(
        this,
        [file, runId, withMetrics] {
            Run out;
            out.runId = runId;
            out.withMetrics = withMetrics;
            try {
                auto db = storage::Database::open(file, storage::Database::Mode::ReadOnly);
                out.row = storage::findTrainingRun(db, runId);
                if (withMetrics && out.row)
                    out.metrics = storage::trainingMetrics(db, runId);
            } catch (const std::exception &e) {
                out.row.reset();
                out.metrics.clear();
                out.error = QString::fromUtf8(e.what());
            }
            return out;
        },
        [this, generation](const Run &run) {
            if (generation != m_runGeneration)
                return;
            m_metricsPending.reset();
            emit runLoaded(run);
        });
}

} // namespace unirank::ui
