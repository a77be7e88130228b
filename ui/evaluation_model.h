// SPDX-License-Identifier: GPL-3.0-or-later
// The Evaluate tab's table: one row per run (the baseline first, then model versions), one column per
// metric, each cell the mean with a significance marker against the baseline from the report's paired
// randomisation test (Holm-adjusted): "▲"/"▼" for the direction, "*" p < 0.05, "**" p < 0.01. The
// tooltip gives the difference, its 95% bootstrap interval and both p values.
//
// Threading: GUI thread only. Input: an eval::Report's JSON (core/eval/report.h).
#pragma once

#include <QAbstractTableModel>

#include <nlohmann/json.hpp>

namespace unirank::ui {

class EvaluationModel final : public QAbstractTableModel {
    Q_OBJECT

public:
    enum Role { ValueRole = Qt::UserRole + 1, PValueRole, RunNameRole };

    explicit EvaluationModel(QObject *parent = nullptr);

    void setReport(nlohmann::json report, QStringList metrics);
    const nlohmann::json &report() const { return m_report; }
    const QStringList &metrics() const { return m_metrics; }
    QStringList runNames() const;

    /// "*" for p < 0.05, "**" for p < 0.01, "" otherwise.
    static QString stars(double p);
    /// The comparison entry of `run` for `metric`, or null json.
    const nlohmann::json *comparison(const std::string &run, const std::string &metric) const;
    /// Long format: run,metric,mean,mean_difference,p,p_holm,ci95_low,ci95_high (baseline: empty diff).
    std::string toCsv() const;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    nlohmann::json m_report;
    QStringList m_metrics;
};

} // namespace unirank::ui
