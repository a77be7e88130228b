// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/evaluate_tab.h"

#include "core/util/atomic_file.h"
#include "storage/errors.h"
#include "storage/project_eval.h"
#include "storage/repo/catalog.h"
#include "ui/async_result.h"
#include "ui/eval_charts.h"
#include "ui/evaluation_model.h"

#include <QComboBox>
#include <QFileDialog>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSplitter>
#include <QStandardItemModel>
#include <QTabWidget>
#include <QTableView>
#include <QVBoxLayout>
#include <QtCharts/QChartView>
#include <QtConcurrent/QtConcurrentRun>

namespace unirank::ui {
namespace {

void replaceChart(QChartView *view, QChart *chart)
{
    auto *old = view->chart();
    view->setChart(chart);
    delete old;
}

} // namespace

EvaluateTab::EvaluateTab(ProjectContext &context, QWidget *parent)
    : QWidget(parent)
    , m_context(context)
    , m_model(new EvaluationModel(this))
    , m_perQuery(new QStandardItemModel(this))
    , m_metrics(new QLineEdit(QStringLiteral("success_1,success_10,ndcg_cut_10,map,recip_rank"), this))
    , m_baseline(new QComboBox(this))
    , m_chartMetric(new QComboBox(this))
    , m_run(new QPushButton(tr("Evaluate"), this))
    , m_table(new QTableView(this))
    , m_perQueryView(new QTableView(this))
    , m_metricChart(new QChartView(this))
    , m_modalityChart(new QChartView(this))
    , m_reliabilityChart(new QChartView(this))
    , m_status(new QLabel(this))
{
    m_metrics->setToolTip(tr("trec_eval metric names, comma-separated (success_k is UniRank's Recall@k)"));
    auto *exportCsv = new QPushButton(tr("Export CSV..."), this);
    auto *exportJson = new QPushButton(tr("Export JSON..."), this);
    auto *top = new QHBoxLayout;
    top->addWidget(new QLabel(tr("Metrics:"), this));
    top->addWidget(m_metrics, 2);
    top->addWidget(new QLabel(tr("Baseline:"), this));
    top->addWidget(m_baseline, 1);
    top->addWidget(m_run);
    top->addWidget(exportCsv);
    top->addWidget(exportJson);

    m_table->setModel(m_model);
    m_table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_table->horizontalHeader()->setSectionResizeMode(QHeaderView::Stretch);
    m_perQueryView->setModel(m_perQuery);
    m_perQueryView->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_perQueryView->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_perQueryView->setSortingEnabled(true);
    m_perQueryView->setToolTip(tr("Double-click a query to open it in the Rank tab"));
    for (auto *view : {m_metricChart, m_modalityChart, m_reliabilityChart})
        view->setRenderHint(QPainter::Antialiasing);

    auto *charts = new QTabWidget(this);
    auto *metricPage = new QWidget(this);
    auto *metricLayout = new QVBoxLayout(metricPage);
    auto *metricRow = new QHBoxLayout;
    metricRow->addWidget(new QLabel(tr("Metric:"), metricPage));
    metricRow->addWidget(m_chartMetric, 1);
    metricLayout->addLayout(metricRow);
    metricLayout->addWidget(m_metricChart, 1);
    charts->addTab(metricPage, tr("Across versions"));
    charts->addTab(m_modalityChart, tr("Modality share"));
    charts->addTab(m_reliabilityChart, tr("Reliability"));
    auto *perQueryPage = new QWidget(this);
    auto *perQueryLayout = new QVBoxLayout(perQueryPage);
    perQueryLayout->addWidget(new QLabel(tr("Per query (metric chosen above); double-click to open"), perQueryPage));
    perQueryLayout->addWidget(m_perQueryView);
    charts->addTab(perQueryPage, tr("Per query"));

    auto *split = new QSplitter(Qt::Vertical, this);
    split->addWidget(m_table);
    split->addWidget(charts);
    split->setStretchFactor(1, 2);
    auto *layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addWidget(split, 1);
    m_team = new QLabel(this);
    m_team->setTextFormat(Qt::PlainText);
    layout->addWidget(m_team);
    layout->addWidget(m_status);
    m_status->setTextFormat(Qt::PlainText);
    m_status->setText(tr("Press Evaluate to compare the versions against the labels."));

    connect(m_run, &QPushButton::clicked, this, &EvaluateTab::evaluate);
    const auto exportTo = [this](const QString &title, const QString &filter, auto write) {
        const auto file = QFileDialog::getSaveFileName(this, title, {}, filter);
        if (file.isEmpty())
            return;
        const Result<void> done = (this->*write)(file);
        m_status->setText(done ? tr("Wrote %1").arg(file) : QString::fromStdString(done.error().message));
    };
    connect(exportCsv, &QPushButton::clicked, this,
            [exportTo, this] { exportTo(tr("Export CSV"), tr("CSV (*.csv)"), &EvaluateTab::exportCsv); });
    connect(exportJson, &QPushButton::clicked, this,
            [exportTo, this] { exportTo(tr("Export JSON"), tr("JSON (*.json)"), &EvaluateTab::exportJson); });
    connect(m_chartMetric, &QComboBox::currentTextChanged, this, [this] {
        if (!m_model->report().is_null() && !m_chartMetric->currentText().isEmpty()) {
            replaceChart(m_metricChart, metricAcrossRunsChart(m_model->report(), m_chartMetric->currentText().toStdString()));
            refreshPerQuery();
        }
    });
    connect(m_perQueryView, &QTableView::doubleClicked, this, [this](const QModelIndex &index) {
        const auto id = m_perQuery->index(index.row(), 0).data().toString();
        if (!id.isEmpty())
            emit openQuery(id);
    });
    connect(&m_watcher, &QFutureWatcherBase::finished, this, [this] {
        m_run->setEnabled(true);
        const auto result = m_watcher.result();
        if (!result) {
            const auto message = QString::fromStdString(result.error().message);
            m_status->setText(tr("Evaluation failed: %1").arg(message));
            emit evaluationFailed(message);
            return;
        }
        showReport(*result);
    });
    connect(&m_context, &ProjectContext::projectOpened, this, &EvaluateTab::fillBaselines);
    connect(&m_context, &ProjectContext::versionsChanged, this, &EvaluateTab::fillBaselines);
    connect(&m_context, &ProjectContext::collectionChanged, this, &EvaluateTab::fillBaselines);
    connect(&m_context, &ProjectContext::projectClosed, this, [this] { m_model->setReport({}, {}); });
    connect(&m_context, &ProjectContext::projectOpened, this, &EvaluateTab::refreshTeamAgreement);
    connect(&m_context, &ProjectContext::collectionChanged, this, &EvaluateTab::refreshTeamAgreement);
    connect(&m_context, &ProjectContext::labelsChanged, this, &EvaluateTab::refreshTeamAgreement);
    connect(&m_context, &ProjectContext::labelsChangedElsewhere, this, &EvaluateTab::refreshTeamAgreement);
    connect(&m_context, &ProjectContext::projectClosed, this, [this] { m_team->clear(); });
    connect(&m_context, &ProjectContext::labelsChangedElsewhere, this, [this] {
        // An evaluation is stored with the project, so it is not redone unasked: say the labels moved on.
        if (m_run->isEnabled() && m_model->rowCount() > 0)
            m_status->setText(tr("New labels arrived since this evaluation (other analysts): Evaluate again for "
                                 "current agreement and metrics."));
    });
    fillBaselines();
}

EvaluateTab::~EvaluateTab() { m_watcher.waitForFinished(); }

QString EvaluateTab::statusText() const { return m_status->text(); }

QString EvaluateTab::teamAgreementText() const { return m_team->text(); }

void EvaluateTab::refreshTeamAgreement()
{
    if (!m_context.isOpen() || m_context.collectionId() == 0)
        return;
    const auto file = m_context.project().file().string();
    const auto collection = m_context.collectionId();
    const auto generation = ++m_teamGeneration;
    runThenDeliver(
        this,
        [file, collection]() -> std::optional<eval::AnnotatorAgreement> {
            try {
                auto db = storage::Database::open(file, storage::Database::Mode::ReadOnly);
                return storage::teamAgreement(db, collection);
            } catch (const std::exception &) {
                return std::nullopt; // the next change tries again
            }
        },
        [this, generation](const std::optional<eval::AnnotatorAgreement> &a) {
            if (generation != m_teamGeneration || !a)
                return;
            m_team->setText(a->alpha ? tr("Team agreement: Krippendorff's alpha %1 over %2 pairs judged by two or more "
                                          "analysts (%3 judgements); updated as labels arrive.")
                                           .arg(*a->alpha, 0, 'f', 3)
                                           .arg(a->units)
                                           .arg(a->judgements)
                                     : tr("Team agreement: not yet measurable (%1 pairs judged by two or more "
                                          "analysts); updated as labels arrive.")
                                           .arg(a->units));
            emit teamAgreementUpdated();
        });
}

void EvaluateTab::fillBaselines()
{
    const auto current = m_baseline->currentData().toString();
    m_baseline->clear();
    if (!m_context.isOpen() || m_context.collectionId() == 0)
        return;
    const auto &catalog = m_context.catalog();
    if (const auto tag = catalog.firstStageTag.find(m_context.collectionId()); tag != catalog.firstStageTag.end()) {
        const QString name = QStringLiteral("first-stage:") + QString::fromStdString(tag->second);
        m_baseline->addItem(name, name);
    }
    for (const auto &v : catalog.versions)
        if (catalog.newestScoreRun(v.id, m_context.collectionId()))
            m_baseline->addItem(QString::fromStdString(v.name), QString::fromStdString(v.name));
    m_baseline->setCurrentIndex(std::max(0, m_baseline->findData(current)));
}

void EvaluateTab::evaluate()
{
    if (!m_context.isOpen()) {
        m_status->setText(tr("No project open."));
        return;
    }
    QStringList metrics;
    for (const auto &m : m_metrics->text().split(QLatin1Char(','), Qt::SkipEmptyParts))
        metrics << m.trimmed();
    storage::ProjectEvalOptions o;
    if (const auto *c = m_context.catalog().collection(m_context.collectionId()))
        o.collection = c->name;
    o.baseline = m_baseline->currentData().toString().toStdString();
    for (const auto &m : metrics)
        o.report.eval.metrics.push_back(m.toStdString());
    o.report.perQuery = true;
    o.report.calibration = true;
    const auto file = m_context.project().file().string();
    m_run->setEnabled(false);
    m_status->setText(tr("Evaluating ..."));
    m_watcher.setFuture(QtConcurrent::run([file, o]() -> Result<nlohmann::json> {
        auto project = storage::Project::open(file);
        if (!project)
            return std::unexpected(project.error());
        auto report = storage::evaluateProject(**project, o);
        if (!report)
            return std::unexpected(report.error());
        return report->json;
    }));
    m_model->setReport({}, {});
    m_pendingMetrics = metrics;
}

void EvaluateTab::showReport(const nlohmann::json &report)
{
    const auto metrics = m_pendingMetrics;
    m_model->setReport(report, metrics);
    {
        const QSignalBlocker block(m_chartMetric);
        const auto previous = m_chartMetric->currentText();
        m_chartMetric->clear();
        m_chartMetric->addItems(metrics);
        m_chartMetric->setCurrentIndex(std::max(0, m_chartMetric->findText(previous)));
    }
    refreshCharts();
    refreshPerQuery();
    m_status->setText(tr("Evaluated %1 runs on %2 queries; results stored with each score run.")
                          .arg(m_model->rowCount())
                          .arg(report.at("runs").empty() ? 0 : report.at("runs")[0].value("queries", 0)));
    emit evaluated();
}

void EvaluateTab::refreshCharts()
{
    const auto &report = m_model->report();
    if (report.is_null())
        return;
    replaceChart(m_metricChart, metricAcrossRunsChart(report, m_chartMetric->currentText().toStdString()));
    replaceChart(m_modalityChart, modalityShareChart(report));
    replaceChart(m_reliabilityChart, ui::reliabilityChart(report));
}

void EvaluateTab::refreshPerQuery()
{
    const auto &report = m_model->report();
    m_perQuery->clear();
    if (report.is_null())
        return;
    const auto metric = m_chartMetric->currentText().toStdString();
    const auto names = m_model->runNames();
    m_perQuery->setHorizontalHeaderLabels(QStringList{tr("Query")} + names);
    std::map<std::string, int> rowOf;
    const auto &runs = report.at("runs");
    for (std::size_t r = 0; r < runs.size(); ++r) {
        const auto perQuery = runs[r].value("per_query", nlohmann::json::object()); // a named copy: items() must not outlive it
        for (const auto &[query, values] : perQuery.items()) {
            auto [it, fresh] = rowOf.emplace(query, m_perQuery->rowCount());
            if (fresh) {
                QList<QStandardItem *> row{new QStandardItem(QString::fromStdString(query))};
                for (qsizetype i = 0; i < names.size(); ++i)
                    row << new QStandardItem;
                m_perQuery->appendRow(row);
            }
            if (values.contains(metric)) {
                auto *item = m_perQuery->item(it->second, int(r) + 1);
                item->setData(values.at(metric).get<double>(), Qt::DisplayRole);
            }
        }
    }
}

Result<void> EvaluateTab::exportCsv(const QString &file) const
{
    if (m_model->report().is_null())
        return std::unexpected(Error{ErrorKind::BadInput, "nothing to export: evaluate first"});
    return storage::capture([&] {
        AtomicFile out(file.toStdString());
        out.write(m_model->toCsv());
        out.commit();
    });
}

Result<void> EvaluateTab::exportJson(const QString &file) const
{
    if (m_model->report().is_null())
        return std::unexpected(Error{ErrorKind::BadInput, "nothing to export: evaluate first"});
    return storage::capture([&] {
        AtomicFile out(file.toStdString());
        out.write(m_model->report().dump(2) + "\n");
        out.commit();
    });
}

} // namespace unirank::ui
