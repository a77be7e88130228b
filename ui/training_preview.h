// SPDX-License-Identifier: GPL-3.0-or-later
// The Train tab's data preview: what a training command would take from the collection, counted the
// way it counts (storage::buildTrainingData for instruction tuning, buildAlignmentData for alignment,
// with the form's relevance threshold and source switches): queries, graded and pairwise labels, pairs
// by source, what was dropped. The newest request wins.
//
// Threading: GUI thread; the counting runs on a pool thread with its own connection. Errors: the note
// under the table says why there is nothing to train on.
#pragma once

#include "core/util/error.h"

#include <nlohmann/json.hpp>

#include <QFutureWatcher>
#include <QWidget>

class QLabel;
class QTableWidget;

namespace unirank::ui {

class TrainingDataPreview final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TrainingDataPreview)

public:
    explicit TrainingDataPreview(QWidget *parent = nullptr);
    ~TrainingDataPreview() override;

    /// Counts in the background; `instructionTuning` false counts alignment's pairs.
    void refresh(const QString &projectFile, std::int64_t collectionId, bool instructionTuning, const nlohmann::json &settings);
    void clear();
    QTableWidget *table() const { return m_table; }
    QString note() const;

signals:
    void updated();

private:
    void showStats(const Result<nlohmann::json> &stats, bool instructionTuning);

    QTableWidget *m_table;
    QLabel *m_note;
    quint64 m_generation = 0;
    QFutureWatcher<std::pair<quint64, Result<nlohmann::json>>> m_watcher;
    bool m_pendingSft = true;
};

} // namespace unirank::ui
