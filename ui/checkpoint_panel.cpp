// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/checkpoint_panel.h"

#include "storage/model_publish.h"
#include "storage/project.h"
#include "ui/project_context.h"
#include "ui/scoring_service.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QPushButton>
#include <QTableWidget>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

#include <algorithm>
#include <cmath>

namespace fs = std::filesystem;

namespace unirank::ui {
namespace {

/// The step and the newest held-out pair accuracy recorded in a checkpoint's trainer_state.json.
void readTrainerState(CheckpointInfo &info)
{
    QFile file(info.folder + QStringLiteral("/trainer_state.json"));
    if (!file.open(QIODevice::ReadOnly))
        return;
    const auto state = QJsonDocument::fromJson(file.readAll()).object();
    if (state.contains(QLatin1String("global_step")))
        info.step = state.value(QLatin1String("global_step")).toInteger();
    for (const auto &entry : state.value(QLatin1String("log_history")).toArray()) {
        const auto e = entry.toObject();
        if (e.contains(QLatin1String("val_pair_accuracy")))
            info.pairAccuracy = e.value(QLatin1String("val_pair_accuracy")).toDouble();
    }
}

} // namespace

std::vector<CheckpointInfo> listCheckpoints(const QString &outputDir)
{
    std::vector<CheckpointInfo> out;
    const QDir dir(outputDir);
    for (const auto &name : dir.entryList({QStringLiteral("checkpoint-*")}, QDir::Dirs)) {
        bool ok = false;
        const auto step = name.mid(11).toLongLong(&ok);
        // A folder still being written is a staging name, never checkpoint-<digits>; a complete one
        // has its trainer state.
        if (!ok || !QFileInfo::exists(dir.filePath(name) + QStringLiteral("/trainer_state.json")))
            continue;
        CheckpointInfo info{dir.filePath(name), name, step, std::nan("")};
        readTrainerState(info);
        info.step = step;
        out.push_back(info);
    }
    std::sort(out.begin(), out.end(), [](const auto &a, const auto &b) { return a.step < b.step; });
    if (dir.exists(QStringLiteral("best")))
        out.insert(out.begin(), CheckpointInfo{dir.filePath(QStringLiteral("best")), QStringLiteral("best"), -1, std::nan("")});
    return out;
}

Result<PublishedCheckpoint> publishCheckpoint(const QString &projectFile, std::int64_t runId, const CheckpointInfo &checkpoint)
{
    try {
        auto opened = storage::Project::open(projectFile.toStdString());
        if (!opened)
            return std::unexpected(opened.error());
        auto &db = (*opened)->db();
        const auto run = storage::findTrainingRun(db, runId);
        if (!run)
            return std::unexpected(Error{ErrorKind::BadInput, "training run " + std::to_string(runId) + " is not in the project"});
        const auto versionName = [&](std::int64_t id) {
            for (const auto &v : storage::listModelVersions(db))
                if (v.id == id)
                    return QString::fromStdString(v.name);
            return QString();
        };
        // The run's own published best is registered already.
        if (checkpoint.name == QLatin1String("best") && run->resultModelVersionId)
            return PublishedCheckpoint{*run->resultModelVersionId, versionName(*run->resultModelVersionId)};
        if (!run->baseModelVersionId)
            return std::unexpected(Error{ErrorKind::BadInput, "the training run has no starting model version"});
        const auto parent = *run->baseModelVersionId;
        std::string baseHash;
        for (const auto &v : storage::modelLineage(db, parent))
            if (v.kind != storage::ModelKind::Adapter) {
                baseHash = v.contentHash;
                break;
            }
        const bool full = run->config.value("config", nlohmann::json::object()).value("full_finetune", false);
        const fs::path folder = checkpoint.folder.toStdString();
        const auto source = full ? folder / "model" : folder;
        const auto hash = full ? ScoringService::folderHash(source) : ScoringService::adapterHash(baseHash, source);
        // <project>.models/<run folder>-<checkpoint>, e.g. sft-clipart-demo-2-checkpoint-12.
        const fs::path runFolder = run->config.value("adapter_out", std::string());
        const fs::path file = projectFile.toStdString();
        const auto models = file.parent_path() / (file.stem().string() + ".models");
        const auto destination = models / ((runFolder.empty() ? run->kind : runFolder.filename().string()) + "-" +
                                           checkpoint.name.toStdString());
        const nlohmann::json metadata{{"training_run", runId}, {"method", run->kind}, {"checkpoint", checkpoint.name.toStdString()},
                                      {"step", checkpoint.step}};
        const auto published = storage::publishModelFolder(db, source, destination,
                                                           full ? storage::ModelKind::Merged : storage::ModelKind::Adapter, hash,
                                                           parent, metadata);
        return PublishedCheckpoint{published.id, QString::fromStdString(published.name)};
    } catch (const InputError &e) {
        return std::unexpected(Error{ErrorKind::BadInput, e.what()});
    } catch (const std::exception &e) {
        return std::unexpected(Error{ErrorKind::Internal, e.what()});
    }
}

CheckpointPanel::CheckpointPanel(ProjectContext &context, QWidget *parent)
    : QWidget(parent)
    , m_context(context)
    , m_table(new QTableWidget(0, 3, this))
    , m_use(new QPushButton(tr("Use this version"), this))
    , m_evaluate(new QPushButton(tr("Evaluate"), this))
    , m_folder(new QLabel(this))
{
    m_table->setHorizontalHeaderLabels({tr("Checkpoint"), tr("Step"), tr("Held-out pair accuracy")});
    m_table->horizontalHeader()->setStretchLastSection(true);
    m_table->verticalHeader()->hide();
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_use->setToolTip(tr("Register this checkpoint as a model version and rank with it in the Rank and Label tabs"));
    m_evaluate->setToolTip(tr("Register this checkpoint, score every query with it and compare it in the Evaluate tab"));
    m_folder->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_folder->setWordWrap(true);

    auto *buttons = new QHBoxLayout;
    buttons->addWidget(m_use);
    buttons->addWidget(m_evaluate);
    buttons->addStretch(1);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_folder);
    layout->addWidget(m_table, 1);
    layout->addLayout(buttons);

    connect(m_table, &QTableWidget::itemSelectionChanged, this, &CheckpointPanel::updateButtons);
    connect(m_use, &QPushButton::clicked, this, [this] { publishSelected(Then::Use); });
    connect(m_evaluate, &QPushButton::clicked, this, [this] { publishSelected(Then::Evaluate); });
    connect(&m_watcher, &QFutureWatcherBase::finished, this, [this] {
        const auto result = m_watcher.result();
        updateButtons();
        if (!result) {
            emit publishFailed(QString::fromStdString(result.error().message));
            return;
        }
        const auto published = *result;
        m_context.notifyVersionsChanged(this, [this, published, then = m_then] { // once the catalog has it
            if (then == Then::Use) {
                m_context.setActiveVersion(published.versionId);
                emit versionActivated(published.name);
            } else {
                emit evaluateRequested(published.name);
            }
        });
    });
    updateButtons();
}

CheckpointPanel::~CheckpointPanel() { m_watcher.waitForFinished(); }

void CheckpointPanel::setRun(const std::optional<storage::TrainingRunRow> &run)
{
    m_run = run;
    refresh();
}

void CheckpointPanel::refresh()
{
    const auto selected = m_table->currentRow() >= 0 && m_table->currentRow() < int(m_checkpoints.size())
                              ? m_checkpoints[std::size_t(m_table->currentRow())].name
                              : QString();
    const auto output = m_run ? QString::fromStdString(m_run->config.value("output_dir", std::string())) : QString();
    m_checkpoints = output.isEmpty() ? std::vector<CheckpointInfo>{} : listCheckpoints(output);
    m_folder->setText(output.isEmpty() ? tr("No run selected.") : tr("Checkpoints in %1").arg(output));
    m_table->setRowCount(int(m_checkpoints.size()));
    for (int row = 0; row < int(m_checkpoints.size()); ++row) {
        const auto &c = m_checkpoints[std::size_t(row)];
        const bool best = c.name == QLatin1String("best");
        m_table->setItem(row, 0, new QTableWidgetItem(best ? tr("best (published)") : c.name));
        m_table->setItem(row, 1, new QTableWidgetItem(c.step >= 0 ? QString::number(c.step) : QString()));
        m_table->setItem(row, 2, new QTableWidgetItem(std::isnan(c.pairAccuracy) ? QString() : QString::number(c.pairAccuracy, 'f', 3)));
        if (c.name == selected)
            m_table->selectRow(row);
    }
    updateButtons();
}

void CheckpointPanel::publishSelected(Then then)
{
    const int row = m_table->currentRow();
    if (!m_run || row < 0 || row >= int(m_checkpoints.size()) || m_watcher.isRunning())
        return;
    m_then = then;
    const auto file = m_context.file();
    const auto runId = m_run->id;
    const auto checkpoint = m_checkpoints[std::size_t(row)];
    m_watcher.setFuture(QtConcurrent::run([file, runId, checkpoint] { return publishCheckpoint(file, runId, checkpoint); }));
    updateButtons();
}

void CheckpointPanel::updateButtons()
{
    const bool chosen = m_run && m_table->currentRow() >= 0 && !m_watcher.isRunning();
    m_use->setEnabled(chosen);
    m_evaluate->setEnabled(chosen);
}

} // namespace unirank::ui
