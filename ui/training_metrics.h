// SPDX-License-Identifier: GPL-3.0-or-later
// The metrics of one training run as the Train tab charts them: (step, value) points per name, filled
// from the run's stored metrics or live from the command's events, and the smoothing the charts draw
// beside the raw values (an exponential moving average with TensorBoard's debiasing, so the first
// points are not pulled toward zero). Plain data: no widgets, tested directly.
#pragma once

#include <QPointF>
#include <QString>

#include <map>
#include <vector>

namespace unirank::ui {

class TrainingMetrics {
public:
    void clear() { m_series.clear(); }
    /// Adds or replaces the value at `step` (a resumed run may log a step again).
    void add(const QString &name, double step, double value);
    /// Points by step; empty for an unknown name.
    const std::vector<QPointF> &series(const QString &name) const;
    bool has(const QString &name) const { return m_series.count(name) != 0; }
    QStringList names() const;

private:
    std::map<QString, std::vector<QPointF>> m_series;
};

/// Debiased exponential moving average: s_t = w s_{t-1} + (1 - w) x_t, divided by 1 - w^t; weight in
/// [0, 1) (0: the raw values). Non-finite values are skipped.
std::vector<QPointF> smoothed(const std::vector<QPointF> &points, double weight);

} // namespace unirank::ui
