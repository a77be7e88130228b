// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/train_tab.h"

#include "core/training/setting_docs.h"
#include "ui/checkpoint_panel.h"
#include "ui/hyperparameter_form.h"
#include "ui/project_context.h"
#include "ui/scoring_service.h"
#include "ui/training_charts_panel.h"
#include "ui/training_preview.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDateTime>
#include <QFileInfo>
#include <QFormLayout>
#include <QGroupBox>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QProgressBar>
#include <QProgressDialog>
#include <QPushButton>
#include <QScrollArea>
#include <QSpinBox>
#include <QSplitter>
#include <QTabWidget>
#include <QTableWidget>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include <cmath>

namespace unirank::ui {
namespace {

QString duration(double seconds)
{
    if (!std::isfinite(seconds) || seconds < 0)
        return QStringLiteral("?");
    const auto s = static_cast<long long>(std::llround(seconds));
    return s >= 3600 ? QStringLiteral("%1:%2:%3").arg(s / 3600).arg(s / 60 % 60, 2, 10, QLatin1Char('0')).arg(s % 60, 2, 10, QLatin1Char('0'))
                     : QStringLiteral("%1:%2").arg(s / 60).arg(s % 60, 2, 10, QLatin1Char('0'));
}

} // namespace

TrainTab::TrainTab(ProjectContext &context, QWidget *parent)
    : QWidget(parent)
    , m_context(context)
    , m_runner(this)
    , m_stage(new QComboBox(this))
    , m_method(new QComboBox(this))
    , m_startFrom(new QComboBox(this))
    , m_rounds(new QSpinBox(this))
    , m_device(new QComboBox(this))
    , m_scoreAfter(new QCheckBox(tr("Score the new version for the Evaluate tab"), this))
    , m_preview(new TrainingDataPreview(this))
    , m_form(new HyperparameterForm(this))
    , m_command(new QPlainTextEdit(this))
    , m_status(new QLabel(this))
    , m_progress(new QProgressBar(this))
    , m_stepLabel(new QLabel(this))
    , m_start(new QPushButton(tr("Start"), this))
    , m_cancel(new QPushButton(tr("Cancel"), this))
    , m_resume(new QPushButton(tr("Resume"), this))
    , m_runs(new QComboBox(this))
    , m_charts(new TrainingChartsPanel(this))
    , m_log(new QPlainTextEdit(this))
    , m_checkpoints(new CheckpointPanel(context, this))
    , m_runLoader(new TrainingRunLoader(this))
{
    buildLayout();
    m_checkpointPoll.setInterval(2000);
    connect(&m_checkpointPoll, &QTimer::timeout, m_checkpoints, &CheckpointPanel::refresh);
    connect(m_runLoader, &TrainingRunLoader::runsLoaded, this, &TrainTab::onRunsLoaded);
    connect(m_runLoader, &TrainingRunLoader::runLoaded, this, &TrainTab::onRunLoaded);

    connect(m_stage, &QComboBox::currentIndexChanged, this, &TrainTab::onStageChanged);
    connect(m_method, &QComboBox::currentIndexChanged, this, &TrainTab::onStageChanged);
    connect(m_startFrom, &QComboBox::currentIndexChanged, this, &TrainTab::refreshCommand);
    connect(m_startFrom, &QComboBox::activated, this, [this] { m_startFromChosen = true; });
    connect(m_rounds, &QSpinBox::valueChanged, this, &TrainTab::refreshCommand);
    connect(m_device, &QComboBox::currentIndexChanged, this, &TrainTab::refreshCommand);
    connect(m_scoreAfter, &QCheckBox::toggled, this, &TrainTab::refreshCommand);
    connect(m_form, &HyperparameterForm::changed, this, [this] {
        refreshCommand();
        refreshPreview();
    });
    connect(m_start, &QPushButton::clicked, this, &TrainTab::start);
    connect(m_cancel, &QPushButton::clicked, this, &TrainTab::cancel);
    connect(m_resume, &QPushButton::clicked, this, &TrainTab::resume);
    connect(m_runs, &QComboBox::activated, this, [this] {
        const auto id = m_runs->currentData();
        showRun(id.isValid() ? std::optional<std::int64_t>(id.toLongLong()) : std::nullopt);
    });

    connect(&m_runner, &TrainingRunner::event, this, &TrainTab::onEvent);
    connect(&m_runner, &TrainingRunner::logLine, this, &TrainTab::appendLog);
    connect(&m_runner, &TrainingRunner::finished, this, &TrainTab::onFinished);
    connect(m_checkpoints, &CheckpointPanel::versionActivated, this,
            [this](const QString &name) { m_status->setText(tr("Version '%1' is active in the Rank and Label tabs.").arg(name)); });
    connect(m_checkpoints, &CheckpointPanel::evaluateRequested, this, [this](const QString &name) { startScoring(name, true); });
    connect(m_checkpoints, &CheckpointPanel::publishFailed, this,
            [this](const QString &m) { setState(m_state, tr("Cannot register the checkpoint: %1").arg(m), true); });

    connect(&m_context, &ProjectContext::projectOpened, this, &TrainTab::onProjectChanged);
    connect(&m_context, &ProjectContext::projectClosed, this, &TrainTab::onProjectChanged);
    connect(&m_context, &ProjectContext::collectionChanged, this, [this] { refreshPreview(); });
    connect(&m_context, &ProjectContext::labelsChanged, this, [this] {
        if (isVisible())
            refreshPreview(true);
    });
    connect(&m_context, &ProjectContext::versionsChanged, this, &TrainTab::fillStartFrom);
    connect(&m_context, &ProjectContext::activeVersionChanged, this, &TrainTab::fillStartFrom);
    onStageChanged();
    onProjectChanged();
}

TrainTab::~TrainTab() = default;

void TrainTab::buildLayout()
{
    m_stage->addItem(tr("Instruction tuning (stage 1)"), QStringLiteral("sft"));
    m_stage->addItem(tr("Preference alignment (stage 2)"), QStringLiteral("align"));
    m_stage->setToolTip(tr("Stage 1 teaches the yes/no relevance answer from graded and pairwise labels; stage 2 aligns the "
                           "ranking with pairwise preferences and mined hard negatives, starting from a stage-1 version."));
    m_method->addItem(tr("PL-GRPO (default)"), QStringLiteral("pl-grpo"));
    m_method->addItem(tr("DPO"), QStringLiteral("dpo"));
    m_method->setToolTip(tr("PL-GRPO samples whole rankings and rewards them; DPO learns from preference pairs directly."));
    m_startFrom->setToolTip(tr("The model version training starts from (and, for alignment, the frozen reference)."));
    m_rounds->setRange(1, 100);
    m_rounds->setToolTip(tr("Alignment rounds: each mines fresh hard negatives with the current model, then trains."));
    m_device->addItem(QStringLiteral("cpu"));
    if (ScoringService::cudaAvailable())
        m_device->addItem(QStringLiteral("cuda"));
    m_scoreAfter->setChecked(true);
    m_scoreAfter->setToolTip(tr("After training, rank every query with the new version (unirank-cli score) so the Evaluate tab "
                                "can compare it."));
    m_command->setReadOnly(true);
    m_command->setMaximumHeight(110);
    m_command->setToolTip(tr("The same run from a terminal (or a cluster job)."));
    m_status->setWordWrap(true);
    m_status->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_progress->setTextVisible(true);
    m_cancel->setToolTip(tr("Stop before the next batch; a checkpoint is saved and Resume continues from it."));
    m_resume->setToolTip(tr("Continue the selected run from its newest checkpoint."));
    m_runs->setToolTip(tr("Runs recorded in the project; choose one to see its metrics and checkpoints."));
    m_log->setReadOnly(true);
    m_log->setMaximumBlockCount(2000);
    m_log->setLineWrapMode(QPlainTextEdit::NoWrap);

    // Left: what to run.
    auto *setup = new QWidget;
    auto *setupLayout = new QVBoxLayout(setup);
    auto *what = new QFormLayout;
    what->addRow(tr("Stage"), m_stage);
    what->addRow(tr("Method"), m_method);
    what->addRow(tr("Start from"), m_startFrom);
    what->addRow(tr("Rounds"), m_rounds);
    what->addRow(tr("Device"), m_device);
    setupLayout->addLayout(what);
    setupLayout->addWidget(m_scoreAfter);
    auto *dataBox = new QGroupBox(tr("Data preview"));
    auto *dataLayout = new QVBoxLayout(dataBox);
    dataLayout->addWidget(m_preview);
    setupLayout->addWidget(dataBox);
    auto *settings = new QGroupBox(tr("Settings (bold: changed from the default; hover for what each means)"));
    auto *settingsLayout = new QVBoxLayout(settings);
    settingsLayout->addWidget(m_form);
    auto *reset = new QPushButton(tr("Reset to defaults"));
    connect(reset, &QPushButton::clicked, m_form, &HyperparameterForm::resetToDefaults);
    settingsLayout->addWidget(reset, 0, Qt::AlignLeft);
    setupLayout->addWidget(settings);
    auto *scroll = new QScrollArea;
    scroll->setWidget(setup);
    scroll->setWidgetResizable(true);
    scroll->setMinimumWidth(380);

    // Right: the run.
    auto *run = new QWidget;
    auto *runLayout = new QVBoxLayout(run);
    auto *controls = new QHBoxLayout;
    controls->addWidget(m_start);
    controls->addWidget(m_cancel);
    controls->addWidget(m_resume);
    controls->addSpacing(12);
    controls->addWidget(new QLabel(tr("Run:")));
    controls->addWidget(m_runs, 1);
    runLayout->addLayout(controls);
    auto *progress = new QHBoxLayout;
    progress->addWidget(m_progress, 1);
    progress->addWidget(m_stepLabel);
    runLayout->addLayout(progress);
    runLayout->addWidget(m_status);
    auto *command = new QGroupBox(tr("Equivalent command"));
    auto *commandLayout = new QVBoxLayout(command);
    commandLayout->addWidget(m_command);
    runLayout->addWidget(command);
    auto *bottom = new QTabWidget;
    bottom->addTab(m_log, tr("Log"));
    bottom->addTab(m_checkpoints, tr("Checkpoints"));
    auto *vertical = new QSplitter(Qt::Vertical);
    vertical->addWidget(m_charts);
    vertical->addWidget(bottom);
    vertical->setStretchFactor(0, 3);
    vertical->setStretchFactor(1, 1);
    runLayout->addWidget(vertical, 1);

    auto *split = new QSplitter(Qt::Horizontal, this);
    split->addWidget(scroll);
    split->addWidget(run);
    split->setStretchFactor(1, 1);
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(4, 4, 4, 4);
    layout->addWidget(split);
}

void TrainTab::onProjectChanged()
{
    m_startFromChosen = false;
    fillStartFrom();
    fillRuns();
    refreshPreview();
    refreshCommand();
    if (!isBusy())
        setState(State::Idle, m_context.isOpen() ? tr("Ready.") : tr("Open a project to train on its labels."));
}

void TrainTab::onStageChanged()
{
    const bool align = m_stage->currentIndex() == 1;
    m_method->setEnabled(align);
    m_rounds->setEnabled(align);
    TrainRequest probe;
    probe.stage = align ? TrainRequest::Stage::Alignment : TrainRequest::Stage::InstructionTuning;
    probe.method = m_method->currentData().toString();
    const unsigned scope = !align ? training::kScopeSft : probe.method == QLatin1String("dpo") ? training::kScopeDpo : training::kScopePlGrpo;
    m_form->setSchema(stageDefaults(probe), scope);
    m_charts->showKind(probe.kind());
    fillStartFrom();
    refreshPreview();
    refreshCommand();
}

void TrainTab::fillStartFrom()
{
    const auto previous = m_startFrom->currentData();
    const QSignalBlocker block(m_startFrom);
    m_startFrom->clear();
    if (!m_context.isOpen())
        return;
    const bool align = m_stage->currentIndex() == 1;
    int preferred = -1;
    for (const auto &v : m_context.versions()) {
        // Instruction tuning starts from a full model; alignment from an instruction-tuned one (or any).
        if (!align && v.kind == storage::ModelKind::Adapter)
            continue;
        const auto kind = v.kind == storage::ModelKind::Adapter ? tr("adapter") : v.kind == storage::ModelKind::Merged ? tr("full") : tr("base");
        m_startFrom->addItem(QStringLiteral("%1 (%2)").arg(QString::fromStdString(v.name), kind), qlonglong(v.id));
        if (m_context.activeVersion() == v.id)
            preferred = m_startFrom->count() - 1;
        else if (preferred < 0 && align && v.kind != storage::ModelKind::Base)
            preferred = m_startFrom->count() - 1; // alignment starts best from a tuned version
    }
    // The user's choice stays; until there is one, the active version (the one being looked at).
    const int keep = m_startFromChosen ? m_startFrom->findData(previous) : -1;
    m_startFrom->setCurrentIndex(keep >= 0 ? keep : std::max(preferred, m_startFrom->count() > 0 ? 0 : -1));
    refreshCommand();
    updateButtons();
}

std::optional<TrainRequest> TrainTab::currentRequest()
{
    if (!m_context.isOpen() || m_startFrom->currentIndex() < 0 || !m_form->isValid())
        return std::nullopt;
    const auto version = m_startFrom->currentData().toLongLong();
    const auto spec = m_context.specOf(version);
    if (!spec)
        return std::nullopt;
    TrainRequest r;
    r.stage = m_stage->currentIndex() == 1 ? TrainRequest::Stage::Alignment : TrainRequest::Stage::InstructionTuning;
    r.method = m_method->currentData().toString();
    r.project = m_context.file();
    r.collection = collectionArgument();
    r.model = spec->folder;
    if (r.stage == TrainRequest::Stage::Alignment)
        r.adapter = spec->adapter;
    else if (!spec->adapter.isEmpty())
        return std::nullopt; // instruction tuning trains a full model
    r.overrides = m_form->overrides();
    r.rounds = m_rounds->value();
    r.device = m_device->currentText();
    r.output = freshOutputFolder(QString::fromStdString(m_context.project().sideFolder("models").string()), r.kind(),
                                 spec->name);
    return r;
}

void TrainTab::refreshCommand()
{
    const auto request = currentRequest();
    if (!request) {
        m_command->setPlainText(m_context.isOpen() ? tr("(choose a model version to start from)") : QString());
        updateButtons();
        return;
    }
    auto args = trainArguments(*request);
    args.removeAll(QStringLiteral("--events"));
    auto text = shellCommand(QStringLiteral("unirank-cli"), args);
    if (m_scoreAfter->isChecked())
        text += QStringLiteral("\n# then, for the Evaluate tab:\n") +
                shellCommand(QStringLiteral("unirank-cli"), scoreArguments(request->project, request->collection,
                                                                            QStringLiteral("NEW_VERSION"), request->device));
    m_command->setPlainText(text);
    updateButtons();
}

void TrainTab::refreshPreview(bool force)
{
    if (!m_context.isOpen() || m_context.collectionId() == 0) {
        m_preview->clear();
        return;
    }
    m_preview->refresh(m_context.file(), m_context.collectionId(), m_stage->currentIndex() == 0, m_form->values(), force);
}

bool TrainTab::launch(const TrainRequest &request)
{
    if (isBusy())
        return false;
    m_log->clear();
    m_charts->clear();
    m_liveRunId.reset();
    m_liveRequest = request;
    m_progress->setRange(0, 0); // busy until the first step
    m_stepLabel->clear();
    m_charts->showKind(request.kind());
    m_charts->redraw();
    appendLog(QStringLiteral("$ ") + shellCommand(QFileInfo(m_runner.program()).fileName(), trainArguments(request)));
    if (!m_runner.start(tr("Training"), trainArguments(request)))
        return false;
    setState(State::Training, request.resume ? tr("Resuming the run...") : tr("Preparing the data and loading the model..."));
    m_checkpointPoll.start();
    return true;
}

void TrainTab::start()
{
    if (const auto request = currentRequest())
        launch(*request);
}

void TrainTab::cancel()
{
    if (!isBusy())
        return;
    m_runner.stop();
    setState(State::Stopping, m_state == State::Training ? tr("Stopping: the run saves a checkpoint first...") : tr("Stopping..."));
}

std::optional<TrainRequest> TrainTab::requestFromRun(const storage::TrainingRunRow &run) const
{
    const auto &c = run.config;
    TrainRequest r;
    r.stage = run.kind == "sft" ? TrainRequest::Stage::InstructionTuning : TrainRequest::Stage::Alignment;
    r.method = QString::fromStdString(run.kind == "sft" ? std::string("pl-grpo") : run.kind);
    r.project = m_context.file();
    r.model = QString::fromStdString(c.value("model", std::string()));
    r.adapter = QString::fromStdString(c.value("adapter", std::string()));
    r.output = QString::fromStdString(c.value("adapter_out", std::string()));
    r.rounds = c.value("rounds", 1);
    r.device = QString::fromStdString(c.value("device", std::string("cpu")));
    r.resume = true;
    if (r.model.isEmpty() || r.output.isEmpty())
        return std::nullopt;
    // Only what differs from the stage's defaults goes on the command line, as for a new run.
    const auto defaults = stageDefaults(r);
    const auto recorded = c.value("config", nlohmann::json::object());
    for (const auto &[key, value] : recorded.items())
        if (!defaults.contains(key) || defaults.at(key) != value)
            r.overrides[key] = value;
    return r;
}

void TrainTab::resume()
{
    if (isBusy() || !m_shownRunId)
        return;
    const auto &run = m_shownRun; // as last read for the shown run
    const auto request = run && run->id == *m_shownRunId ? requestFromRun(*run) : std::nullopt;
    if (!request) {
        setState(State::Idle, tr("This run cannot be resumed: its settings are incomplete."), true);
        return;
    }
    // Show the run's own settings in the form, so what runs is what is shown.
    m_stage->setCurrentIndex(request->stage == TrainRequest::Stage::Alignment ? 1 : 0);
    m_method->setCurrentIndex(std::max(0, m_method->findData(request->method)));
    m_form->setValues(run->config.value("config", nlohmann::json::object()));
    launch(*request);
}

void TrainTab::startScoring(const QString &versionName, bool thenEvaluate)
{
    if (isBusy() && m_state != State::Training)
        return;
    if (m_runner.isRunning()) {
        setState(m_state, tr("A command is still running; try again when it has finished."), true);
        return;
    }
    m_scoringVersion = versionName;
    m_evaluateAfterScoring = thenEvaluate;
    const auto args = scoreArguments(m_context.file(), collectionArgument(), versionName, m_device->currentText());
    appendLog(QStringLiteral("$ ") + shellCommand(QFileInfo(m_runner.program()).fileName(), args));
    m_progress->setRange(0, 0);
    m_runner.start(tr("Scoring"), args);
    setState(State::Scoring, tr("Scoring every query with '%1' for the Evaluate tab...").arg(versionName));
}

void TrainTab::onEvent(const QJsonObject &e)
{
    const auto kind = e.value(QLatin1String("event")).toString();
    if (kind == QLatin1String("start")) {
        m_liveRunId = e.value(QLatin1String("training_run")).toInteger();
        fillRuns(m_liveRunId);
        m_shownRunId = m_liveRunId;
        // The run's row for the checkpoints and, resumed, the earlier part of its metrics: read off
        // the GUI thread (onRunLoaded).
        m_runLoader->loadRun(m_context.project().file().string(), *m_liveRunId, e.value(QLatin1String("resumed")).toBool());
        m_charts->redraw();
        setState(State::Training, tr("Training run #%1: %2 training and %3 held-out queries.")
                                      .arg(*m_liveRunId)
                                      .arg(e.value(QLatin1String("train_queries")).toInt())
                                      .arg(e.value(QLatin1String("validation_queries")).toInt()));
    } else if (kind == QLatin1String("progress")) {
        const auto step = e.value(QLatin1String("step")).toInteger(), total = e.value(QLatin1String("total_steps")).toInteger();
        m_progress->setRange(0, int(std::max<qint64>(total, 1)));
        m_progress->setValue(int(step));
        m_progress->setFormat(tr("step %1 / %2").arg(step).arg(total));
        m_stepLabel->setText(tr("epoch %1 · elapsed %2 · ETA %3")
                                 .arg(e.value(QLatin1String("epoch")).toDouble(), 0, 'f', 2)
                                 .arg(duration(e.value(QLatin1String("elapsed_s")).toDouble()),
                                      duration(e.value(QLatin1String("eta_s")).toDouble())));
    } else if (kind == QLatin1String("metrics")) {
        const auto step = double(e.value(QLatin1String("step")).toInteger());
        const auto values = e.value(QLatin1String("values")).toObject();
        for (auto it = values.begin(); it != values.end(); ++it)
            if (it.value().isDouble())
                m_charts->addLive(it.key(), step, it.value().toDouble());
    }
}

void TrainTab::onFinished(TrainingRunner::Outcome outcome, const QString &message, const QJsonObject &summary)
{
    m_checkpointPoll.stop();
    m_checkpoints->refresh();
    m_charts->redraw();
    const bool wasScoring = m_state == State::Scoring || (m_state == State::Stopping && !m_scoringVersion.isEmpty());
    if (wasScoring) {
        const auto version = m_scoringVersion;
        m_scoringVersion.clear();
        m_progress->setRange(0, 1);
        m_progress->setValue(outcome == TrainingRunner::Outcome::Completed ? 1 : 0);
        m_progress->setFormat(QString());
        if (outcome == TrainingRunner::Outcome::Completed) {
            setState(State::Idle, tr("Version '%1' is scored: compare it in the Evaluate tab.").arg(version));
            m_context.notifyVersionsChanged(this, [this, version, evaluate = m_evaluateAfterScoring] {
                if (evaluate)
                    emit evaluateRequested(version);
            });
        } else {
            setState(State::Idle, outcome == TrainingRunner::Outcome::Cancelled ? tr("Scoring '%1' was cancelled.").arg(version)
                                                                                 : tr("Scoring '%1' failed: %2").arg(version, message),
                     outcome == TrainingRunner::Outcome::Failed);
        }
        fillRuns(m_shownRunId);
        return;
    }

    fillRuns(m_liveRunId ? m_liveRunId : m_shownRunId); // re-reads the shown run too
    emit runFinished(outcome);
    const auto steps = summary.value(QLatin1String("steps")).toInteger();
    if (outcome == TrainingRunner::Outcome::Failed) {
        setState(State::Idle, tr("The run failed: %1").arg(message), true);
        return;
    }
    if (outcome == TrainingRunner::Outcome::Cancelled) {
        const auto checkpoint = QFileInfo(summary.value(QLatin1String("checkpoint")).toString()).fileName();
        setState(State::Idle, checkpoint.isEmpty() ? tr("Cancelled at step %1 before any checkpoint; Start begins again.").arg(steps)
                                                   : tr("Cancelled at step %1; %2 is saved and Resume continues from it.")
                                                         .arg(steps)
                                                         .arg(checkpoint));
        return;
    }
    const auto version = summary.value(QLatin1String("model_version")).toString();
    m_context.notifyVersionsChanged();
    if (version.isEmpty()) {
        const auto reason = summary.value(QLatin1String("not_published")).toString();
        setState(State::Idle, tr("Finished after %1 steps; nothing was published: %2. Lower learning_rate or raise max_kl.")
                                  .arg(steps)
                                  .arg(reason.isEmpty() ? tr("no checkpoint stayed within max_kl") : reason),
                 true);
        return;
    }
    const auto before = summary.contains(QLatin1String("val_pair_accuracy_before")) ? summary.value(QLatin1String("val_pair_accuracy_before"))
                                                                                    : summary.value(QLatin1String("pair_accuracy_before"));
    const auto after = summary.contains(QLatin1String("val_pair_accuracy_after")) ? summary.value(QLatin1String("val_pair_accuracy_after"))
                                                                                  : summary.value(QLatin1String("pair_accuracy_after"));
    // Selection queries chose the version; the reporting ones (which chose nothing) give the figure to trust.
    auto text = tr("Finished after %1 steps: version '%2'; pair accuracy on the selection queries %3 -> %4")
                    .arg(steps)
                    .arg(version)
                    .arg(before.toDouble(), 0, 'f', 3)
                    .arg(after.toDouble(), 0, 'f', 3);
    const auto reportBefore = summary.value(QLatin1String("report_pair_accuracy_before"));
    const auto reportAfter = summary.value(QLatin1String("report_pair_accuracy_after"));
    if (reportBefore.isDouble() && reportAfter.isDouble())
        text += tr(", on the %1 reporting queries %2 -> %3")
                    .arg(summary.value(QLatin1String("reporting_queries")).toInteger())
                    .arg(reportBefore.toDouble(), 0, 'f', 3)
                    .arg(reportAfter.toDouble(), 0, 'f', 3);
    setState(State::Idle, text + QLatin1Char('.'));
    if (m_scoreAfter->isChecked())
        startScoring(version, false);
}

void TrainTab::fillRuns(std::optional<std::int64_t> select)
{
    if (!m_context.isOpen()) {
        const QSignalBlocker block(m_runs);
        m_runs->clear();
        showRun(std::nullopt);
        return;
    }
    m_selectRun = select;
    m_runLoader->loadRuns(m_context.project().file().string()); // onRunsLoaded fills the list
}

void TrainTab::onRunsLoaded(const TrainingRunLoader::Runs &loaded)
{
    if (!m_context.isOpen())
        return;
    const QSignalBlocker block(m_runs);
    m_runs->clear();
    for (const auto &r : loaded.runs) {
        const auto when = QDateTime::fromString(QString::fromStdString(r.createdAt), Qt::ISODate).toLocalTime();
        m_runs->addItem(tr("#%1 %2 · %3 · %4")
                            .arg(r.id)
                            .arg(QString::fromStdString(r.kind), QString::fromStdString(std::string(storage::toString(r.status))),
                                 when.isValid() ? when.toString(QStringLiteral("yyyy-MM-dd HH:mm")) : QString::fromStdString(r.createdAt)),
                        qlonglong(r.id));
    }
    // While a run goes, the list keeps showing it (a list read before it started must not replace
    // the live display with a past run).
    const auto select = isBusy() ? m_liveRunId : m_selectRun;
    const int at = select ? m_runs->findData(qlonglong(*select)) : 0;
    m_runs->setCurrentIndex(at >= 0 ? at : 0);
    if (!isBusy()) // the live run's row and earlier metrics are read when it starts (onEvent)
        showRun(m_runs->currentIndex() >= 0 ? std::optional<std::int64_t>(m_runs->currentData().toLongLong()) : std::nullopt);
    updateButtons();
}

void TrainTab::showRun(std::optional<std::int64_t> runId)
{
    m_shownRunId = runId;
    if (!runId || !m_context.isOpen()) {
        m_shownRun.reset();
        m_checkpoints->setRun(std::nullopt);
        if (!isBusy()) {
            m_charts->clear();
            m_charts->redraw();
        }
        updateButtons();
        return;
    }
    // The live run's metrics arrive as events; a past run's are read with its row.
    const bool live = runId == m_liveRunId && isBusy();
    m_runLoader->loadRun(m_context.project().file().string(), *runId, !live);
}

void TrainTab::onRunLoaded(const TrainingRunLoader::Run &loaded)
{
    if (!m_context.isOpen() || loaded.runId != m_shownRunId)
        return;
    m_shownRun = loaded.row;
    m_checkpoints->setRun(loaded.row);
    const bool live = loaded.runId == m_liveRunId && isBusy();
    if (live) {
        for (const auto &m : loaded.metrics) // a resumed run's earlier part
            m_charts->add(QString::fromStdString(m.name), double(m.step), m.value);
        if (!loaded.metrics.empty())
            m_charts->redraw();
        updateButtons();
        return;
    }
    if (!loaded.withMetrics) {
        updateButtons();
        return;
    }
    m_charts->clear();
    if (const auto &run = loaded.row) {
        std::int64_t lastStep = 0;
        for (const auto &m : loaded.metrics) {
            m_charts->add(QString::fromStdString(m.name), double(m.step), m.value);
            lastStep = std::max(lastStep, m.step);
        }
        // A past run: how far it got.
        m_progress->setRange(0, int(std::max<std::int64_t>(lastStep, 1)));
        m_progress->setValue(int(lastStep));
        m_progress->setFormat(tr("step %1 · %2").arg(lastStep).arg(QString::fromStdString(std::string(storage::toString(run->status)))));
        m_stepLabel->clear();
        m_charts->showKind(QString::fromStdString(run->kind));
    }
    m_charts->redraw();
    updateButtons();
}

QString TrainTab::collectionArgument()
{
    const auto all = m_context.collections();
    if (all.size() > 1)
        for (const auto &c : all)
            if (c.id == m_context.collectionId())
                return QString::fromStdString(c.name);
    return {}; // the only collection: the CLI takes it without a name
}

void TrainTab::setState(State state, const QString &status, bool error)
{
    const bool changed = state != m_state;
    m_state = state;
    if (!status.isEmpty()) {
        m_status->setText(status);
        m_status->setStyleSheet(error ? QStringLiteral("color: #b00020; font-weight: bold") : QString());
        emit statusMessage(status);
    }
    updateButtons();
    if (changed)
        emit stateChanged(state);
}

void TrainTab::updateButtons()
{
    const bool idle = !isBusy();
    m_start->setEnabled(idle && m_context.isOpen() && currentRequest().has_value());
    m_cancel->setEnabled(m_state == State::Training || m_state == State::Scoring);
    bool resumable = false;
    if (idle && m_shownRunId && m_context.isOpen() && m_shownRun && m_shownRun->id == *m_shownRunId)
        resumable = m_shownRun->status != storage::TrainingStatus::Completed && !m_checkpoints->checkpoints().empty();
    m_resume->setEnabled(resumable);
    for (auto *w : std::initializer_list<QWidget *>{m_stage, m_startFrom, m_device, m_scoreAfter, m_form})
        w->setEnabled(idle);
    m_method->setEnabled(idle && m_stage->currentIndex() == 1);
    m_rounds->setEnabled(idle && m_stage->currentIndex() == 1);
}

void TrainTab::appendLog(const QString &line) { m_log->appendPlainText(line); }

void TrainTab::showEvent(QShowEvent *event)
{
    QWidget::showEvent(event);
    refreshPreview(true); // labels may have changed while the tab was hidden
}

QString TrainTab::statusText() const { return m_status->text(); }

QTableWidget *TrainTab::previewTable() const { return m_preview->table(); }

bool TrainTab::confirmStop(QWidget *parent)
{
    if (!isBusy())
        return true;
    const auto answer = QMessageBox::question(
        parent, tr("Training in progress"),
        m_state == State::Scoring ? tr("A new version is being scored. Stop scoring? (Score it again later from the Train tab.)")
                                  : tr("A training run is in progress (%1). Stop it? It saves a checkpoint first, and Resume "
                                       "continues from there.")
                                        .arg(m_progress->format()),
        QMessageBox::Yes | QMessageBox::No, QMessageBox::No);
    if (answer != QMessageBox::Yes)
        return false;
    return stopAndWait(180000);
}

bool TrainTab::stopAndWait(int msecs)
{
    if (!m_runner.isRunning())
        return true;
    cancel();
    QProgressDialog wait(tr("Saving a checkpoint and stopping..."), QString(), 0, 0, this);
    wait.setWindowModality(Qt::WindowModal);
    wait.setMinimumDuration(500);
    return m_runner.waitForFinished(msecs);
}

} // namespace unirank::ui
