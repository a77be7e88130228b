// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/training_runner.h"

#include <QCoreApplication>
#include <QDeadlineTimer>
#include <QFileInfo>
#include <QJsonDocument>
#include <QStandardPaths>

#include <csignal>
#include <sys/prctl.h>

namespace unirank::ui {

TrainingRunner::TrainingRunner(QObject *parent) : QObject(parent), m_program(defaultProgram()) {}

TrainingRunner::~TrainingRunner()
{
    if (!m_process)
        return;
    // No signal may reach the (half-destroyed) owner now; wait without an event loop.
    disconnect(m_process, nullptr, this, nullptr);
    if (m_process->state() != QProcess::NotRunning) {
        ::kill(static_cast<pid_t>(m_process->processId()), SIGINT);
        if (!m_process->waitForFinished(120000)) { // a large model's checkpoint takes a while to write
            m_process->kill();
            m_process->waitForFinished(5000);
        }
    }
}

QString TrainingRunner::defaultProgram()
{
    if (const auto env = qEnvironmentVariable("UNIRANK_CLI"); !env.isEmpty())
        return env;
    const QString beside = QCoreApplication::applicationDirPath() + QStringLiteral("/unirank-cli");
    if (QFileInfo(beside).isExecutable())
        return beside;
    const auto onPath = QStandardPaths::findExecutable(QStringLiteral("unirank-cli"));
    return onPath.isEmpty() ? QStringLiteral("unirank-cli") : onPath;
}

bool TrainingRunner::start(const QString &title, const QStringList &arguments)
{
    if (m_process)
        return false;
    m_title = title;
    m_stopRequested = false;
    m_summary = {};
    m_error.clear();
    m_lastLine.clear();
    m_process = new QProcess(this);
    m_process->setProgram(m_program);
    m_process->setArguments(arguments);
    // The child checkpoints and exits if this process dies, instead of training on unattended.
    m_process->setChildProcessModifier([] { ::prctl(PR_SET_PDEATHSIG, SIGINT); });
    connect(m_process, &QProcess::readyReadStandardOutput, this, &TrainingRunner::readStdout);
    connect(m_process, &QProcess::readyReadStandardError, this, &TrainingRunner::readStderr);
    connect(m_process, &QProcess::finished, this, &TrainingRunner::onFinished);
    connect(m_process, &QProcess::errorOccurred, this, [this](QProcess::ProcessError error) {
        if (error == QProcess::FailedToStart) {
            m_error = tr("cannot start %1: %2").arg(m_program, m_process->errorString());
            onFinished(-1, QProcess::CrashExit);
        }
    });
    m_process->start();
    emit started(title);
    return true;
}

void TrainingRunner::stop()
{
    if (!m_process || m_process->state() == QProcess::NotRunning)
        return;
    m_stopRequested = true;
    ::kill(static_cast<pid_t>(m_process->processId()), SIGINT);
}

bool TrainingRunner::waitForFinished(int msecs)
{
    const QDeadlineTimer deadline(msecs);
    while (m_process && !deadline.hasExpired()) {
        m_process->waitForFinished(50); // delivers the output, and finished() when the child exits
        QCoreApplication::processEvents(QEventLoop::ExcludeUserInputEvents);
    }
    return m_process == nullptr;
}

void TrainingRunner::readStdout()
{
    while (m_process && m_process->canReadLine()) {
        const auto line = m_process->readLine().trimmed();
        if (line.isEmpty())
            continue;
        QJsonParseError error{};
        const auto doc = QJsonDocument::fromJson(line, &error);
        if (error.error != QJsonParseError::NoError || !doc.isObject()) {
            emit logLine(QString::fromUtf8(line)); // not an event: show it as it is
            continue;
        }
        const auto e = doc.object();
        const auto kind = e.value(QLatin1String("event")).toString();
        if (kind == QLatin1String("summary"))
            m_summary = e;
        else if (kind == QLatin1String("error"))
            m_error = e.value(QLatin1String("message")).toString();
        emit event(e);
    }
}

void TrainingRunner::readStderr()
{
    while (m_process && m_process->canReadLine()) {
        const auto line = QString::fromUtf8(m_process->readLine()).trimmed();
        if (line.isEmpty())
            continue;
        m_lastLine = line;
        if (const auto at = line.indexOf(QLatin1String("error: ")); at >= 0 && m_error.isEmpty())
            m_error = line.mid(at + 7);
        emit logLine(line);
    }
}

void TrainingRunner::onFinished(int exitCode, QProcess::ExitStatus status)
{
    if (!m_process)
        return;
    // Whatever is still buffered, including a last line without a newline.
    readStdout();
    readStderr();
    if (const auto rest = QString::fromUtf8(m_process->readAllStandardError()).trimmed(); !rest.isEmpty()) {
        m_lastLine = rest;
        emit logLine(rest);
    }
    const bool interrupted = m_stopRequested && status == QProcess::CrashExit && m_process->error() != QProcess::FailedToStart;
    Outcome outcome = Outcome::Failed;
    QString message;
    if (status == QProcess::NormalExit && exitCode == 0) {
        const bool cancelled = m_summary.value(QLatin1String("cancelled")).toBool();
        outcome = cancelled ? Outcome::Cancelled : Outcome::Completed;
    } else if (interrupted) {
        outcome = Outcome::Cancelled;
    } else if (!m_error.isEmpty()) {
        message = m_error;
    } else if (status == QProcess::CrashExit) {
        message = tr("the command crashed (%1)").arg(m_process->errorString());
    } else {
        message = tr("exit code %1: %2").arg(exitCode).arg(m_lastLine);
    }
    m_process->deleteLater();
    m_process = nullptr;
    emit finished(outcome, message, m_summary);
}

} // namespace unirank::ui
