// SPDX-License-Identifier: GPL-3.0-or-later
// The Evaluate tab: runs storage::evaluateProject on a pool thread (its own connection; the results
// are stored with each score run) and shows the model versions x metrics table with significance
// markers against the chosen baseline, three charts (a metric across versions, modality share in the
// top k, reliability diagram) and a per-query drill-down; double-clicking a query opens it in the
// Rank tab (openQuery). Exports the table as CSV and the whole report as JSON, atomically.
//
// Threading: GUI thread; the evaluation runs on a worker. Errors: in the status line; evaluationFailed.
#pragma once

#include "core/util/error.h"
#include "ui/project_context.h"

#include <QFutureWatcher>
#include <QWidget>

#include <nlohmann/json.hpp>

class QChartView;
class QComboBox;
class QLabel;
class QLineEdit;
class QPushButton;
class QStandardItemModel;
class QTableView;

namespace unirank::ui {

class EvaluationModel;

class EvaluateTab final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(EvaluateTab)

public:
    explicit EvaluateTab(ProjectContext &context, QWidget *parent = nullptr);
    ~EvaluateTab() override;

    void evaluate();
    Result<void> exportCsv(const QString &file) const;
    Result<void> exportJson(const QString &file) const;

    EvaluationModel *model() const { return m_model; }
    QStandardItemModel *perQueryModel() const { return m_perQuery; }
    QTableView *perQueryView() const { return m_perQueryView; }
    QLineEdit *metricsField() const { return m_metrics; }
    QComboBox *baselineCombo() const { return m_baseline; }
    QComboBox *chartMetricCombo() const { return m_chartMetric; }
    QChartView *metricChart() const { return m_metricChart; }
    QChartView *modalityChart() const { return m_modalityChart; }
    QChartView *reliabilityChart() const { return m_reliabilityChart; }
    QString statusText() const;
    /// "Team agreement: ..." over the current human pair labels, kept up to date as labels arrive.
    QString teamAgreementText() const;

signals:
    void teamAgreementUpdated();
    void evaluated();
    void evaluationFailed(const QString &message);
    /// The user wants to see this query (external id) in the Rank tab.
    void openQuery(const QString &queryExtId);

private:
    void refreshTeamAgreement();
    void fillBaselines();
    void showReport(const nlohmann::json &report);
    void refreshCharts();
    void refreshPerQuery();

    ProjectContext &m_context;
    EvaluationModel *m_model;
    QStandardItemModel *m_perQuery;
    QLineEdit *m_metrics;
    QComboBox *m_baseline;
    QComboBox *m_chartMetric;
    QPushButton *m_run;
    QTableView *m_table;
    QTableView *m_perQueryView;
    QChartView *m_metricChart;
    QChartView *m_modalityChart;
    QChartView *m_reliabilityChart;
    QLabel *m_team = nullptr;
    quint64 m_teamGeneration = 0; ///< the newest agreement read wins
    QLabel *m_status;
    QStringList m_pendingMetrics; ///< of the evaluation in flight
    QFutureWatcher<Result<nlohmann::json>> m_watcher;
};

} // namespace unirank::ui
