// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/project_summary.h"

#include "storage/project.h"

#include <QHeaderView>
#include <QLabel>
#include <QTableWidget>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

namespace unirank::ui {

ProjectSummary::ProjectSummary(QWidget *parent)
    : QWidget(parent)
    , m_status(new QLabel(this))
    , m_table(new QTableWidget(this))
{
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_status);
    layout->addWidget(m_table);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->setColumnCount(7);
    m_table->setHorizontalHeaderLabels({tr("Collection"), tr("Queries"), tr("Candidates"), tr("Text"), tr("Image"),
                                        tr("Graded labels"), tr("Pair labels")});
    m_table->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
    m_status->setText(tr("No project open."));
    connect(&m_watcher, &QFutureWatcherBase::finished, this, [this] { show(m_watcher.result()); });
}

ProjectSummary::~ProjectSummary() { m_watcher.waitForFinished(); }

void ProjectSummary::load(const QString &projectFile)
{
    m_status->setText(tr("Loading %1 ...").arg(projectFile));
    const std::string file = projectFile.toStdString();
    m_watcher.setFuture(QtConcurrent::run([file]() -> Result<storage::ProjectStats> {
        // Worker thread: its own connection; errors become values, nothing escapes.
        auto project = storage::Project::open(file);
        if (!project)
            return std::unexpected(project.error());
        return storage::projectStats((*project)->db());
    }));
}

void ProjectSummary::show(const Result<storage::ProjectStats> &stats)
{
    if (!stats) {
        const auto message = QString::fromStdString(stats.error().message);
        m_status->setText(tr("Cannot open project: %1").arg(message));
        m_table->setRowCount(0);
        emit loadFailed(message);
        return;
    }
    m_table->setRowCount(static_cast<int>(stats->collections.size()));
    int row = 0;
    for (const auto &c : stats->collections) {
        const qint64 values[] = {c.queries, c.candidates, c.textCandidates, c.imageCandidates, c.gradedLabels,
                                 c.pairLabels};
        m_table->setItem(row, 0, new QTableWidgetItem(QString::fromStdString(c.name)));
        for (int col = 0; col < 6; ++col) {
            auto *item = new QTableWidgetItem(QString::number(values[col]));
            item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
            m_table->setItem(row, col + 1, item);
        }
        ++row;
    }
    m_status->setText(tr("%n collection(s), %1 media files, %2 annotators", nullptr,
                         static_cast<int>(stats->collections.size()))
                          .arg(stats->mediaFiles)
                          .arg(stats->annotators));
    emit loaded();
}

} // namespace unirank::ui
