// SPDX-License-Identifier: GPL-3.0-or-later
// One chart of the Train tab: for each metric it is given that the run has, the raw values (thin,
// pale) and their smoothed curve (bold, same colour) against the optimizer step, with a log-scale y
// axis when asked for and every value shown is positive (otherwise linear, and the title says so).
//
// Threading: GUI thread. Ownership: a widget like any other; it owns its QChart.
#pragma once

#include "ui/training_metrics.h"

#include <QtCharts/QChartView>

namespace unirank::ui {

class TrainingChart final : public QChartView {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TrainingChart)

public:
    TrainingChart(const QString &title, QWidget *parent = nullptr);

    void setTitle(const QString &title);
    /// The metrics drawn (each with its label in the legend), e.g. {"loss", "Training loss"}.
    void setMetrics(const QList<QPair<QString, QString>> &metrics);
    /// Redraws from `metrics`. `smoothing` in [0, 1).
    void refresh(const TrainingMetrics &metrics, double smoothing, bool logScale);

    /// For tests: the raw and smoothed series drawn, and whether the y axis is logarithmic.
    int seriesCount() const;
    bool logScaleShown() const { return m_logShown; }

private:
    QString m_title;
    QList<QPair<QString, QString>> m_metrics;
    bool m_logShown = false;
};

} // namespace unirank::ui
