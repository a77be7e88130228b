// SPDX-License-Identifier: GPL-3.0-or-later
// A read-only table of what a project holds (collections, candidates by modality, labels). Loading runs
// on a pool thread with its own connection; the newest load wins, and results arrive on the GUI thread.
//
// Threading: GUI thread only. Errors: shown in the widget and emitted as loadFailed(message).
#pragma once

#include "storage/stats.h"

#include <QFutureWatcher>
#include <QWidget>

class QLabel;
class QTableWidget;

namespace unirank::ui {

class ProjectSummary final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ProjectSummary)

public:
    explicit ProjectSummary(QWidget *parent = nullptr);
    ~ProjectSummary() override;

    /// Starts loading the statistics of `projectFile` in the background.
    void load(const QString &projectFile);

    QTableWidget *table() const { return m_table; }

signals:
    void loaded();
    void loadFailed(const QString &message);

private:
    void show(const Result<storage::ProjectStats> &stats);

    QLabel *m_status;
    QTableWidget *m_table;
    QFutureWatcher<Result<storage::ProjectStats>> m_watcher;
};

} // namespace unirank::ui
