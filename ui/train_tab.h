// SPDX-License-Identifier: GPL-3.0-or-later
// The Train tab: a fine-tuning round on the project's labels, from choosing the stage to comparing
// the new version. The user picks the stage (instruction tuning, or alignment with PL-GRPO or DPO),
// the version to start from and the settings (every one with its default and a tooltip); the tab
// shows what the data gives (labels and pairs per source), the equivalent unirank-cli command, and
// while the run goes: step / total with the ETA, live charts (loss; for alignment reward, KL and pair
// accuracy; raw and smoothed, optional log scale), the log tail and the checkpoints. Start, Cancel and
// Resume drive a TrainingRunner (a unirank-cli child process); when the run ends with a new version,
// it is scored for the Evaluate tab (a second command). Past runs are listed with their stored
// metrics; a cancelled or failed one can be resumed from its newest checkpoint.
//
// Threading: GUI thread; the runs and their metrics are read (TrainingRunLoader), the data preview
// built and checkpoints published on pool threads; training and scoring run in child processes. Errors: the status line (a failed run says why, in red) and signals.
#pragma once

#include "core/util/error.h"
#include "storage/repo/training.h"
#include "ui/train_command.h"
#include "ui/training_run_loader.h"
#include "ui/training_charts_panel.h"
#include "ui/training_metrics.h"
#include "ui/training_runner.h"

#include <QFutureWatcher>
#include <QTimer>
#include <QWidget>

#include <optional>

class QCheckBox;
class QComboBox;
class QLabel;
class QPlainTextEdit;
class QProgressBar;
class QPushButton;
class QSpinBox;
class QTableWidget;

namespace unirank::ui {

class CheckpointPanel;
class HyperparameterForm;
class ProjectContext;
class TrainingChart;
class TrainingDataPreview;

class TrainTab final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TrainTab)

public:
    enum class State { Idle, Training, Scoring, Stopping };

    explicit TrainTab(ProjectContext &context, QWidget *parent = nullptr);
    ~TrainTab() override;

    /// The request the form describes now (a fresh output folder, no --resume).
    std::optional<TrainRequest> currentRequest();
    void start();
    void cancel();
    /// Continues the selected run (cancelled, failed, or left running by a crash) from its newest checkpoint.
    void resume();

    State state() const { return m_state; }
    bool isBusy() const { return m_state != State::Idle; }
    /// When busy, asks whether to stop (the run saves a checkpoint first); true when idle or when
    /// stopped. `parent` hosts the question.
    bool confirmStop(QWidget *parent);
    /// Stops the running command and waits (up to `msecs`) for it to exit.
    bool stopAndWait(int msecs);

    // For tests and tools.
    QComboBox *stageCombo() const { return m_stage; }
    QComboBox *methodCombo() const { return m_method; }
    QComboBox *startFromCombo() const { return m_startFrom; }
    QComboBox *runCombo() const { return m_runs; }
    HyperparameterForm *form() const { return m_form; }
    QPushButton *startButton() const { return m_start; }
    QPushButton *cancelButton() const { return m_cancel; }
    QPushButton *resumeButton() const { return m_resume; }
    QProgressBar *progressBar() const { return m_progress; }
    QTableWidget *previewTable() const;
    QPlainTextEdit *commandView() const { return m_command; }
    QPlainTextEdit *logView() const { return m_log; }
    CheckpointPanel *checkpoints() const { return m_checkpoints; }
    QCheckBox *logScaleBox() const { return m_charts->logScaleBox(); }
    QList<TrainingChart *> charts() const { return m_charts->charts(); }
    TrainingRunner &runner() { return m_runner; }
    const TrainingMetrics &metrics() const { return m_charts->metrics(); }
    QString statusText() const;
    /// The training run shown (the live one while training).
    std::optional<std::int64_t> shownRun() const { return m_shownRunId; }

signals:
    void stateChanged(unirank::ui::TrainTab::State state);
    /// A training command ended (before the new version is scored).
    void runFinished(unirank::ui::TrainingRunner::Outcome outcome);
    /// A version was scored for the Evaluate tab; show it there.
    void evaluateRequested(const QString &versionName);
    void statusMessage(const QString &message);

protected:
    void showEvent(QShowEvent *event) override;

private:
    void buildLayout();
    void onProjectChanged();
    void onStageChanged();
    void fillStartFrom();
    void fillRuns(std::optional<std::int64_t> select = std::nullopt);
    void showRun(std::optional<std::int64_t> runId); ///< reads the run off the GUI thread (onRunLoaded)
    void onRunsLoaded(const TrainingRunLoader::Runs &loaded);
    void onRunLoaded(const TrainingRunLoader::Run &loaded);
    void refreshPreview(bool force = false);
    void refreshCommand();
    QString collectionArgument();            ///< --collection for the commands; empty for the only one
    void setState(State state, const QString &status = {}, bool error = false);
    void onEvent(const QJsonObject &event);
    void onFinished(TrainingRunner::Outcome outcome, const QString &message, const QJsonObject &summary);
    void startScoring(const QString &versionName, bool thenEvaluate);
    bool launch(const TrainRequest &request);
    std::optional<TrainRequest> requestFromRun(const storage::TrainingRunRow &run) const;
    void appendLog(const QString &line);
    void updateButtons();

    ProjectContext &m_context;
    TrainingRunner m_runner;
    State m_state = State::Idle;

    QComboBox *m_stage;
    QComboBox *m_method;
    QComboBox *m_startFrom;
    QSpinBox *m_rounds;
    QComboBox *m_device;
    QCheckBox *m_scoreAfter;
    TrainingDataPreview *m_preview;
    HyperparameterForm *m_form;
    QPlainTextEdit *m_command;
    QLabel *m_status;
    QProgressBar *m_progress;
    QLabel *m_stepLabel;
    QPushButton *m_start;
    QPushButton *m_cancel;
    QPushButton *m_resume;
    QComboBox *m_runs;
    TrainingChartsPanel *m_charts;
    QPlainTextEdit *m_log;
    CheckpointPanel *m_checkpoints;

    TrainingRunLoader *m_runLoader;
    std::optional<std::int64_t> m_shownRunId;
    std::optional<storage::TrainingRunRow> m_shownRun; ///< the shown run's row, as last read
    std::optional<std::int64_t> m_selectRun;           ///< to select once the run list is read
    std::optional<std::int64_t> m_liveRunId;
    std::optional<TrainRequest> m_liveRequest;
    bool m_evaluateAfterScoring = false;
    bool m_startFromChosen = false; ///< the user picked "Start from" (else it follows the active version)
    QString m_scoringVersion;
    QTimer m_checkpointPoll; ///< the live run's checkpoint folder
};

} // namespace unirank::ui
