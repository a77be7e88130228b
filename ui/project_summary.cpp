// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/project_summary.h"

#include "storage/errors.h"
#include "storage/project.h"
#include "storage/project_eval.h"
#include "storage/repo/models.h"

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
    , m_versions(new QTableWidget(this))
{
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_status);
    layout->addWidget(m_table, 1);
    auto *versionsTitle = new QLabel(tr("Model versions"), this);
    QFont bold = versionsTitle->font();
    bold.setBold(true);
    versionsTitle->setFont(bold);
    layout->addWidget(versionsTitle);
    layout->addWidget(m_versions, 1);
    m_versions->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_versions->setColumnCount(7);
    m_versions->setHorizontalHeaderLabels({tr("Version"), tr("Kind"), tr("Parent"), tr("Score runs"), tr("nDCG@10"),
                                           tr("Recall@1"), tr("Created")});
    m_versions->horizontalHeader()->setSectionResizeMode(0, QHeaderView::Stretch);
    m_versions->setToolTip(tr("Metrics from each version's newest stored evaluation (Evaluate tab or unirank-cli eval --project)"));
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
    m_status->setText(tr("Loading %1 ...").arg(QString::fromStdString(storage::redactedLocation(projectFile.toStdString()))));
    const std::string file = projectFile.toStdString();
    m_watcher.setFuture(QtConcurrent::run([file]() -> Result<Overview> {
        // Worker thread: its own connection; errors become values, nothing escapes.
        auto project = storage::Project::open(file);
        if (!project)
            return std::unexpected(project.error());
        auto &db = (*project)->db();
        auto stats = storage::projectStats(db);
        if (!stats)
            return std::unexpected(stats.error());
        return storage::capture([&] {
            Overview o{*stats, {}};
            const auto versions = storage::listModelVersions(db);
            for (const auto &v : versions) {
                VersionLine line{QString::fromStdString(v.name), QString::fromUtf8(toString(v.kind).data()), {},
                                 QString::fromStdString(v.createdAt.substr(0, 16)), 0, {}, {}};
                for (const auto &p : versions)
                    if (v.parentId == p.id)
                        line.parent = QString::fromStdString(p.name);
                auto runs = db.prepare("SELECT id FROM score_runs WHERE model_version_id = ?1 ORDER BY id");
                runs.bind(1, v.id);
                const auto ids = runs.collect([](const storage::Statement &r) { return r.columnInt(0); });
                line.scoreRuns = int(ids.size());
                if (!ids.empty()) {
                    const auto evaluations = storage::listEvaluations(db, ids.back());
                    if (!evaluations.empty()) {
                        const auto mean = evaluations.back().results.value("mean", nlohmann::json::object());
                        if (mean.contains("ndcg_cut_10"))
                            line.ndcg10 = mean.at("ndcg_cut_10").get<double>();
                        if (mean.contains("success_1"))
                            line.success1 = mean.at("success_1").get<double>();
                    }
                }
                o.versions.push_back(std::move(line));
            }
            return o;
        });
    }));
}

void ProjectSummary::show(const Result<Overview> &overview)
{
    if (!overview) {
        const auto message = QString::fromStdString(overview.error().message);
        m_status->setText(tr("Cannot open project: %1").arg(message));
        m_table->setRowCount(0);
        m_versions->setRowCount(0);
        emit loadFailed(message);
        return;
    }
    const auto *stats = &overview->stats;
    m_versions->setRowCount(int(overview->versions.size()));
    for (int r = 0; r < int(overview->versions.size()); ++r) {
        const auto &v = overview->versions[std::size_t(r)];
        const auto number = [](std::optional<double> x) { return x ? QString::number(*x, 'f', 3) : QString(); };
        const QStringList cells{v.name, v.kind, v.parent, QString::number(v.scoreRuns), number(v.ndcg10), number(v.success1), v.created};
        for (int c = 0; c < cells.size(); ++c) {
            auto *item = new QTableWidgetItem(cells[c]);
            if (c >= 3 && c <= 5)
                item->setTextAlignment(Qt::AlignRight | Qt::AlignVCenter);
            m_versions->setItem(r, c, item);
        }
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
