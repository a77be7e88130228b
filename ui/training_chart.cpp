// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/training_chart.h"

#include <QtCharts/QLegendMarker>
#include <QtCharts/QLineSeries>
#include <QtCharts/QLogValueAxis>
#include <QtCharts/QValueAxis>

#include <QPen>

#include <algorithm>
#include <cmath>

namespace unirank::ui {
namespace {

const QColor kColours[] = {QColor(0x1f, 0x77, 0xb4), QColor(0xd6, 0x27, 0x28), QColor(0x2c, 0xa0, 0x2c), QColor(0x94, 0x67, 0xbd)};

QLineSeries *line(const std::vector<QPointF> &points, const QColor &colour, qreal width, const QString &name)
{
    auto *s = new QLineSeries;
    s->setName(name);
    QList<QPointF> list;
    list.reserve(static_cast<qsizetype>(points.size()));
    for (const auto &p : points)
        if (std::isfinite(p.y()))
            list << p;
    s->replace(list);
    QPen pen(colour);
    pen.setWidthF(width);
    s->setPen(pen);
    return s;
}

} // namespace

TrainingChart::TrainingChart(const QString &title, QWidget *parent) : QChartView(parent), m_title(title)
{
    auto *c = new QChart;
    c->setTitle(title);
    c->legend()->setAlignment(Qt::AlignBottom);
    c->setMargins(QMargins(4, 4, 4, 4));
    // QChartView made a chart of its own; setChart() releases it without deleting it (LeakSanitizer).
    auto *made = chart();
    setChart(c);
    delete made;
    setRenderHint(QPainter::Antialiasing);
    setMinimumSize(260, 190);
}

void TrainingChart::setTitle(const QString &title)
{
    m_title = title;
    chart()->setTitle(title);
}

void TrainingChart::setMetrics(const QList<QPair<QString, QString>> &metrics) { m_metrics = metrics; }

void TrainingChart::refresh(const TrainingMetrics &metrics, double smoothing, bool logScale)
{
    auto *c = chart();
    c->removeAllSeries();
    for (auto *axis : c->axes()) {
        c->removeAxis(axis);
        delete axis;
    }

    struct Shown {
        QLineSeries *raw, *smooth;
    };
    std::vector<Shown> shown;
    double lo = INFINITY, hi = -INFINITY, first = INFINITY, last = -INFINITY;
    int colour = 0;
    for (const auto &[name, label] : m_metrics) {
        const auto &points = metrics.series(name);
        if (points.empty())
            continue;
        for (const auto &p : points)
            if (std::isfinite(p.y())) {
                lo = std::min(lo, p.y()), hi = std::max(hi, p.y());
                first = std::min(first, p.x()), last = std::max(last, p.x());
            }
        const auto col = kColours[colour++ % 4];
        auto pale = col;
        pale.setAlpha(70);
        shown.push_back({line(points, pale, 1.0, label + tr(" (raw)")), line(smoothed(points, smoothing), col, 2.2, label)});
    }
    m_logShown = logScale && !shown.empty() && lo > 0;
    c->setTitle(logScale && !m_logShown && !shown.empty() ? m_title + tr(" (linear: values <= 0)") : m_title);
    if (shown.empty())
        return;
    if (first == last)
        last = first + 1;
    if (lo == hi)
        lo -= 0.5, hi += 0.5;

    auto *x = new QValueAxis;
    x->setTitleText(tr("step"));
    x->setLabelFormat(QStringLiteral("%d"));
    x->setRange(first, last);
    c->addAxis(x, Qt::AlignBottom);
    QAbstractAxis *y = nullptr;
    if (m_logShown) {
        auto *log = new QLogValueAxis;
        log->setBase(10);
        log->setLabelFormat(QStringLiteral("%.3g"));
        log->setRange(lo / 1.2, hi * 1.2);
        y = log;
    } else {
        auto *lin = new QValueAxis;
        const double pad = (hi - lo) * 0.05;
        lin->setRange(lo - pad, hi + pad);
        lin->setLabelFormat(QStringLiteral("%.3g"));
        y = lin;
    }
    c->addAxis(y, Qt::AlignLeft);
    for (const auto &s : shown)
        for (auto *series : {s.raw, s.smooth}) {
            c->addSeries(series);
            series->attachAxis(x);
            series->attachAxis(y);
        }
    // The raw series carry no legend entry of their own: the colour says which metric they belong to.
    const auto markers = c->legend()->markers();
    for (int i = 0; i < markers.size(); i += 2)
        markers[i]->setVisible(false);
}

int TrainingChart::seriesCount() const { return static_cast<int>(chart()->series().size()); }

} // namespace unirank::ui
