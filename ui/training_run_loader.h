// SPDX-License-Identifier: GPL-3.0-or-later
// The Train tab's reads of the project, off the GUI thread: the list of training runs, and one run
// (its row, and its recorded metrics when asked). Each read runs on a pool thread with its own
// read-only connection; for each kind of read only the newest request's answer is delivered (a newer
// read of a run whose metrics are on their way brings them too).
//
// Threading: construct and call on the GUI thread; answers arrive there.
// Errors: a failed read delivers an empty answer (no runs, no run) and its message in `error`.
#pragma once

#include "storage/repo/training.h"

#include <QObject>
#include <QString>

#include <optional>
#include <string>
#include <vector>

namespace unirank::ui {

class TrainingRunLoader final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TrainingRunLoader)

public:
    struct Runs {
        std::vector<storage::TrainingRunRow> runs; ///< newest first, as listTrainingRuns
        QString error;
    };
    struct Run {
        std::int64_t runId = 0;
        std::optional<storage::TrainingRunRow> row;
        bool withMetrics = false;
        std::vector<storage::TrainingMetric> metrics;
        QString error;
    };

    explicit TrainingRunLoader(QObject *parent = nullptr)
        : QObject(parent)
    {
    }

    void loadRuns(const std::string &file);
    void loadRun(const std::string &file, std::int64_t runId, bool withMetrics);

signals:
    void runsLoaded(const unirank::ui::TrainingRunLoader::Runs &runs);
    void runLoaded(const unirank::ui::TrainingRunLoader::Run &run);

private:
    quint64 m_runsGeneration = 0, m_runGeneration = 0;
    std::optional<std::int64_t> m_metricsPending; ///< the run whose metrics a read in flight brings
};

} // namespace unirank::ui
