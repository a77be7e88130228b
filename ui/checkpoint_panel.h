// SPDX-License-Identifier: GPL-3.0-or-later
// The Train tab's checkpoint list: the checkpoint folders of one training run (its output folder:
// checkpoint-<step>/ and best/, with the held-out pair accuracy each one's trainer state recorded) and
// two actions on the selected one. "Use this version" publishes it (its model files copied into
// <project>.models/, registered under the run's starting version; the run's own published best is
// used as it is) and makes it the active version; "Evaluate" publishes it and asks for a score run
// (evaluateRequested) so it appears in the Evaluate tab.
//
// Threading: GUI thread; publishing (copying weights, hashing them, one insert) runs on a pool thread
// with its own connection. Errors: publishFailed with the message; nothing is registered then.
#pragma once

#include "core/util/error.h"
#include "storage/repo/training.h"

#include <QFutureWatcher>
#include <QWidget>

#include <limits>
#include <optional>

class QLabel;
class QPushButton;
class QTableWidget;

namespace unirank::ui {

class ProjectContext;

struct CheckpointInfo {
    QString folder;          ///< absolute
    QString name;            ///< checkpoint-<step> or best
    std::int64_t step = -1;  ///< -1 for best when its step is not known
    double pairAccuracy = std::numeric_limits<double>::quiet_NaN(); ///< held-out, at that step
};

/// The checkpoints in a run's output folder: best first, then by step.
std::vector<CheckpointInfo> listCheckpoints(const QString &outputDir);

struct PublishedCheckpoint {
    std::int64_t versionId = 0;
    QString name;
};

/// Publishes `checkpoint` of training run `runId` as a model version. Blocking (copies and hashes
/// weights): call from a worker; opens its own connection to `projectFile`.
Result<PublishedCheckpoint> publishCheckpoint(const QString &projectFile, std::int64_t runId, const CheckpointInfo &checkpoint);

class CheckpointPanel final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(CheckpointPanel)

public:
    explicit CheckpointPanel(ProjectContext &context, QWidget *parent = nullptr);
    ~CheckpointPanel() override;

    /// Shows the checkpoints of `run` (none for nullopt) and re-reads the folder.
    void setRun(const std::optional<storage::TrainingRunRow> &run);
    void refresh();

    QTableWidget *table() const { return m_table; }
    QPushButton *useButton() const { return m_use; }
    QPushButton *evaluateButton() const { return m_evaluate; }
    const std::vector<CheckpointInfo> &checkpoints() const { return m_checkpoints; }
    bool isPublishing() const { return m_watcher.isRunning(); }

signals:
    void versionActivated(const QString &name);
    void evaluateRequested(const QString &versionName);
    void publishFailed(const QString &message);

private:
    enum class Then { Use, Evaluate };
    void publishSelected(Then then);
    void updateButtons();

    ProjectContext &m_context;
    std::optional<storage::TrainingRunRow> m_run;
    std::vector<CheckpointInfo> m_checkpoints;
    QTableWidget *m_table;
    QPushButton *m_use;
    QPushButton *m_evaluate;
    QLabel *m_folder;
    Then m_then = Then::Use;
    QFutureWatcher<Result<PublishedCheckpoint>> m_watcher;
};

} // namespace unirank::ui
