// SPDX-License-Identifier: GPL-3.0-or-later
// Runs one unirank-cli command at a time in a child process for the Train tab (training, scoring a
// new version, building the demo project), so a crash in a long job cannot take the window down and
// the GUI and the command line run the very same code. A training command started with --events
// writes JSON lines on stdout (cli_training.h lists them); each becomes event(). Every stderr line
// becomes logLine().
//
// stop() sends SIGINT: a training command stops before its next micro-batch, saves a checkpoint (an
// atomic folder rename, so a checkpoint is either complete or absent) and exits cleanly; any other
// command ends at once. If the GUI process dies, the child gets SIGINT too (PR_SET_PDEATHSIG) and
// checkpoints in the same way. The destructor stops a running child and waits for it.
//
// Threading: GUI thread only; signals are emitted on it. Errors: finished() with Outcome::Failed and
// the command's own message (its "unirank-cli: error: ..." line, or how it crashed).
#pragma once

#include <QJsonObject>
#include <QObject>
#include <QProcess>
#include <QStringList>

namespace unirank::ui {

class TrainingRunner final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TrainingRunner)

public:
    enum class Outcome { Completed, Cancelled, Failed };
    Q_ENUM(Outcome)

    explicit TrainingRunner(QObject *parent = nullptr);
    ~TrainingRunner() override;

    /// unirank-cli to run: $UNIRANK_CLI, else the one beside this executable, else the one on PATH.
    static QString defaultProgram();
    void setProgram(const QString &program) { m_program = program; }
    QString program() const { return m_program; }

    /// Starts `arguments` (a unirank-cli command line without the program); false when one is running.
    bool start(const QString &title, const QStringList &arguments);
    /// Asks the running command to stop (SIGINT); finished() follows.
    void stop();
    bool isRunning() const { return m_process != nullptr; }
    bool stopRequested() const { return m_stopRequested; }
    QString title() const { return m_title; }
    /// Blocks the caller up to `msecs` while the child finishes, still delivering its output.
    bool waitForFinished(int msecs);

signals:
    void started(const QString &title);
    void event(const QJsonObject &event);
    void logLine(const QString &line);
    /// `summary`: the command's summary event (empty when it wrote none).
    void finished(unirank::ui::TrainingRunner::Outcome outcome, const QString &message, const QJsonObject &summary);

private:
    void readStdout();
    void readStderr();
    void onFinished(int exitCode, QProcess::ExitStatus status);

    QString m_program;
    QProcess *m_process = nullptr;
    QString m_title;
    bool m_stopRequested = false;
    QJsonObject m_summary;
    QString m_error;    ///< from an error event or the last "error:" line
    QString m_lastLine; ///< of stderr
};

} // namespace unirank::ui
