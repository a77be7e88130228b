// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/training_charts_panel.h"

#include "ui/training_chart.h"

#include <QCheckBox>
#include <QGridLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QSlider>
#include <QVBoxLayout>

namespace unirank::ui {
namespace {

using Curves = QList<QPair<QString, QString>>;

/// The four charts of a run of this kind: title and the metrics drawn in it.
QList<QPair<QString, Curves>> chartsFor(const QString &kind)
{
    if (kind == QLatin1String("sft"))
        return {
            {QObject::tr("Loss"),
             {{QStringLiteral("loss"), QObject::tr("training")},
              {QStringLiteral("val_loss"), QObject::tr("selection queries")}}},
            {QObject::tr("Pair accuracy"), {{QStringLiteral("val_pair_accuracy"), QObject::tr("selection queries")}}},
            {QObject::tr("Learning rate"), {{QStringLiteral("learning_rate"), QObject::tr("learning rate")}}},
            {QObject::tr("Gradient norm"), {{QStringLiteral("grad_norm"), QObject::tr("before clipping")}}}};
    return {{QObject::tr("Loss"), {{QStringLiteral("loss"), QObject::tr("training")}}},
            {QObject::tr("Reward"),
             {{QStringLiteral("reward"), QObject::tr("ranking reward")},
              {QStringLiteral("rewards/margins"), QObject::tr("DPO margin")}}},
            {QObject::tr("KL to the reference"),
             {{QStringLiteral("kl"), QObject::tr("training batch")},
              {QStringLiteral("val_kl"), QObject::tr("selection queries")},
              {QStringLiteral("kl_check"), QObject::tr("KL guard check")}}},
            {QObject::tr("Pair accuracy"),
             {{QStringLiteral("val_pair_accuracy"), QObject::tr("selection queries")},
              {QStringLiteral("pair_agreement"), QObject::tr("sampled rankings")},
              {QStringLiteral("rewards/accuracies"), QObject::tr("DPO batch")}}}};
}

} // namespace

TrainingChartsPanel::TrainingChartsPanel(QWidget *parent)
    : QWidget(parent)
    , m_smoothing(new QSlider(Qt::Horizontal, this))
    , m_logScale(new QCheckBox(tr("Log scale"), this))
{
    m_smoothing->setRange(0, 99);
    m_smoothing->setValue(60);
    m_smoothing->setToolTip(
        tr("Smoothing of the bold curves (exponential moving average); the pale lines are the raw values."));
    m_redraw.setSingleShot(true);
    m_redraw.setInterval(200);
    connect(&m_redraw, &QTimer::timeout, this, &TrainingChartsPanel::redraw);
    connect(m_smoothing, &QSlider::valueChanged, this, &TrainingChartsPanel::redraw);
    connect(m_logScale, &QCheckBox::toggled, this, &TrainingChartsPanel::redraw);

    auto *options = new QHBoxLayout;
    options->addWidget(new QLabel(tr("Smoothing"), this));
    options->addWidget(m_smoothing, 1);
    options->addWidget(m_logScale);
    auto *grid = new QGridLayout;
    for (int i = 0; i < 4; ++i) {
        auto *chart = new TrainingChart(QString(), this);
        m_charts << chart;
        grid->addWidget(chart, i / 2, i % 2);
    }
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addLayout(options);
    layout->addLayout(grid, 1);
}

void TrainingChartsPanel::showKind(const QString &kind)
{
    const auto layout = chartsFor(kind);
    for (int i = 0; i < m_charts.size(); ++i) {
        m_charts[i]->setMetrics(layout[i].second);
        m_charts[i]->setTitle(layout[i].first);
    }
}

void TrainingChartsPanel::addLive(const QString &name, double step, double value)
{
    m_metrics.add(name, step, value);
    if (!m_redraw.isActive())
        m_redraw.start();
}

void TrainingChartsPanel::redraw()
{
    const double smoothing = m_smoothing->value() / 100.0;
    for (auto *chart : m_charts)
        chart->refresh(m_metrics, smoothing, m_logScale->isChecked());
}

} // namespace unirank::ui
