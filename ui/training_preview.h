// SPDX-License-Identifier: GPL-3.0-or-later
// The Train tab's data preview: what a training command would take from the collection, counted the
// way it counts (storage::buildTrainingData for instruction tuning, buildAlignmentData for alignment,
// with the form's relevance threshold and source switches): queries, graded and pairwise labels, pairs
// by source, what was dropped. The newest request wins; one count runs at a time and the GUI thread
// never waits for it (a request made meanwhile starts when it ends).
//
// Threading: GUI thread; the counting runs on a pool thread with its own connection. Errors: the note
// under the table says why there is nothing to train on.
#pragma once

#include "core/util/error.h"

#include <nlohmann/json.hpp>

#include <QFutureWatcher>
#include <QWidget>

#include <optional>

class QLabel;
class QTableWidget;

namespace unirank::ui {

class TrainingDataPreview final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TrainingDataPreview)

public:
    explicit TrainingDataPreview(QWidget *parent = nullptr);
    ~TrainingDataPreview() override;

    /// Counts in the background; `instructionTuning` false counts alignment's pairs. A request equal to
    /// the one shown is skipped unless `force` (the labels changed).
    void refresh(const QString &projectFile, std::int64_t collectionId, bool instructionTuning, const nlohmann::json &settings,
                 bool force = false);
    void clear();
    QTableWidget *table() const { return m_table; }
    QString note() const;

signals:
    void updated();

private:
    struct Request {
        QString file;
        std::int64_t collection = 0;
        bool sft = true;
        nlohmann::json settings; ///< only the keys the counting reads
        bool operator==(const Request &) const = default;
    };
    void startNext();
    void showStats(const Result<nlohmann::json> &stats, bool instructionTuning);

    QTableWidget *m_table;
    QLabel *m_note;
    quint64 m_generation = 0;
    std::optional<Request> m_next;  ///< waits for the running count
    Request m_running;
    std::optional<Request> m_shown; ///< what the table shows
    QFutureWatcher<std::pair<quint64, Result<nlohmann::json>>> m_watcher;
};

} // namespace unirank::ui
