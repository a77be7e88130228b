// SPDX-License-Identifier: GPL-3.0-or-later
// A read-only overview of what a project holds: collections (candidates by modality, labels) and model
// versions (lineage, score runs, the means of their newest stored evaluation). Loading runs on a pool
// thread with its own connection; the newest load wins, and results arrive on the GUI thread.
//
// Threading: GUI thread only. Errors: shown in the widget and emitted as loadFailed(message).
#pragma once

#include "storage/stats.h"

#include <QFutureWatcher>
#include <QWidget>

#include <optional>

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
    QTableWidget *versionsTable() const { return m_versions; }

    struct VersionLine {
        QString name, kind, parent, created;
        int scoreRuns = 0;
        std::optional<double> ndcg10, success1; ///< from the newest evaluation of the newest run
    };
    struct Overview {
        storage::ProjectStats stats;
        std::vector<VersionLine> versions;
    };

signals:
    void loaded();
    void loadFailed(const QString &message);

private:
    void show(const Result<Overview> &overview);

    QLabel *m_status;
    QTableWidget *m_table;
    QTableWidget *m_versions;
    QFutureWatcher<Result<Overview>> m_watcher;
};

} // namespace unirank::ui
