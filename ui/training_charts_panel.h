// SPDX-License-Identifier: GPL-3.0-or-later
// The Train tab's charts: four TrainingCharts laid out for the run's kind (instruction tuning: loss,
// pair accuracy, learning rate, gradient norm; alignment: loss, reward, KL, pair accuracy), a
// smoothing slider and a log-scale switch, over the TrainingMetrics they draw. Live metrics are added
// as they arrive and redrawn at most five times a second.
//
// Threading: GUI thread. Errors: none (unknown metrics are kept and not drawn).
#pragma once

#include "ui/training_metrics.h"

#include <QList>
#include <QTimer>
#include <QWidget>

class QCheckBox;
class QSlider;

namespace unirank::ui {

class TrainingChart;

class TrainingChartsPanel final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(TrainingChartsPanel)

public:
    explicit TrainingChartsPanel(QWidget *parent = nullptr);

    /// Titles and curves for a run of this kind ("sft", "dpo", "pl-grpo").
    void showKind(const QString &kind);
    void clear() { m_metrics.clear(); }
    /// Adds a point; the charts follow within 200 ms.
    void addLive(const QString &name, double step, double value);
    void add(const QString &name, double step, double value) { m_metrics.add(name, step, value); }
    void redraw();

    const TrainingMetrics &metrics() const { return m_metrics; }
    QList<TrainingChart *> charts() const { return m_charts; }
    QCheckBox *logScaleBox() const { return m_logScale; }

private:
    TrainingMetrics m_metrics;
    QList<TrainingChart *> m_charts;
    QSlider *m_smoothing;
    QCheckBox *m_logScale;
    QTimer m_redraw; ///< at most a few redraws a second
};

} // namespace unirank::ui
