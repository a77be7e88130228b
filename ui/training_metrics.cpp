// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/training_metrics.h"

#include <QStringList>

#include <algorithm>
#include <cmath>

namespace unirank::ui {

void TrainingMetrics::add(const QString &name, double step, double value)
{
    auto &points = m_series[name];
    const auto at = std::lower_bound(points.begin(), points.end(), step, [](const QPointF &p, double s) { return p.x() < s; });
    if (at != points.end() && at->x() == step)
        at->setY(value);
    else
        points.insert(at, QPointF(step, value));
}

const std::vector<QPointF> &TrainingMetrics::series(const QString &name) const
{
    static const std::vector<QPointF> none;
    const auto it = m_series.find(name);
    return it == m_series.end() ? none : it->second;
}

QStringList TrainingMetrics::names() const
{
    QStringList out;
    for (const auto &entry : m_series)
        out << entry.first;
    return out;
}

std::vector<QPointF> smoothed(const std::vector<QPointF> &points, double weight)
{
    weight = std::clamp(weight, 0.0, 0.999);
    std::vector<QPointF> out;
    out.reserve(points.size());
    double average = 0, decay = 1;
    for (const auto &p : points) {
        if (!std::isfinite(p.y()))
            continue;
        average = weight * average + (1 - weight) * p.y();
        decay *= weight;
        out.emplace_back(p.x(), average / (1 - decay));
    }
    return out;
}

} // namespace unirank::ui
