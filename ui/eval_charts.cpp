// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/eval_charts.h"

#include <QtCharts/QBarCategoryAxis>
#include <QtCharts/QBarSeries>
#include <QtCharts/QBarSet>
#include <QtCharts/QLineSeries>
#include <QtCharts/QScatterSeries>
#include <QtCharts/QValueAxis>

namespace unirank::ui {
namespace {

QStringList runNames(const nlohmann::json &report)
{
    QStringList out;
    for (const auto &r : report.value("runs", nlohmann::json::array()))
        out << QString::fromStdString(r.value("name", std::string()));
    return out;
}

QValueAxis *unitAxis(QChart *chart, const QString &title, Qt::Alignment where)
{
    auto *axis = new QValueAxis(chart);
    axis->setRange(0, 1);
    axis->setTitleText(title);
    chart->addAxis(axis, where);
    return axis;
}

QBarCategoryAxis *categories(QChart *chart, const QStringList &names)
{
    auto *axis = new QBarCategoryAxis(chart);
    axis->append(names);
    chart->addAxis(axis, Qt::AlignBottom);
    return axis;
}

} // namespace

QChart *metricAcrossRunsChart(const nlohmann::json &report, const std::string &metric)
{
    auto *chart = new QChart;
    chart->setTitle(QObject::tr("%1 across versions").arg(QString::fromStdString(metric)));
    auto *bars = new QBarSet(QString::fromStdString(metric));
    for (const auto &r : report.value("runs", nlohmann::json::array())) {
        const auto &mean = r.at("mean");
        *bars << (mean.contains(metric) ? mean.at(metric).get<double>() : 0.0);
    }
    auto *series = new QBarSeries(chart);
    series->append(bars);
    series->setLabelsVisible(true);
    series->setLabelsFormat(QStringLiteral("@value"));
    series->setLabelsPrecision(3);
    chart->addSeries(series);
    series->attachAxis(categories(chart, runNames(report)));
    series->attachAxis(unitAxis(chart, QString::fromStdString(metric), Qt::AlignLeft));
    chart->legend()->hide();
    return chart;
}

QChart *modalityShareChart(const nlohmann::json &report)
{
    auto *chart = new QChart;
    long k = 10;
    auto *top = new QBarSet(QObject::tr("image share in the top k"));
    auto *relevant = new QBarSet(QObject::tr("image share among relevant"));
    for (const auto &r : report.value("runs", nlohmann::json::array())) {
        const auto bias = r.value("modality_bias", nlohmann::json::object());
        k = bias.value("k", k);
        *top << bias.value("image_share_top_k", 0.0);
        *relevant << bias.value("image_share_relevant", 0.0);
    }
    chart->setTitle(QObject::tr("Modality share in the top %1").arg(k));
    auto *series = new QBarSeries(chart);
    series->append(top);
    series->append(relevant);
    chart->addSeries(series);
    series->attachAxis(categories(chart, runNames(report)));
    series->attachAxis(unitAxis(chart, QObject::tr("image share"), Qt::AlignLeft));
    return chart;
}

QChart *reliabilityChart(const nlohmann::json &report)
{
    auto *chart = new QChart;
    chart->setTitle(QObject::tr("Reliability of the calibrated probability"));
    auto *x = unitAxis(chart, QObject::tr("confidence (mean predicted probability)"), Qt::AlignBottom);
    auto *y = unitAxis(chart, QObject::tr("accuracy (share relevant)"), Qt::AlignLeft);
    auto *diagonal = new QLineSeries(chart);
    diagonal->setName(QObject::tr("perfect calibration"));
    diagonal->append(0, 0);
    diagonal->append(1, 1);
    QPen dashed = diagonal->pen();
    dashed.setStyle(Qt::DashLine);
    dashed.setColor(Qt::gray);
    diagonal->setPen(dashed);
    chart->addSeries(diagonal);
    diagonal->attachAxis(x);
    diagonal->attachAxis(y);
    for (const auto &r : report.value("runs", nlohmann::json::array())) {
        const auto name = r.value("name", std::string());
        if (name.rfind("first-stage:", 0) == 0 || !r.contains("calibration"))
            continue;
        const auto &cal = r.at("calibration");
        auto *line = new QLineSeries(chart);
        line->setName(QObject::tr("%1 (ECE %2)").arg(QString::fromStdString(name)).arg(cal.value("ece", 0.0), 0, 'f', 3));
        line->setPointsVisible(true);
        for (const auto &b : cal.value("bins", nlohmann::json::array()))
            if (b.value("count", 0) > 0)
                line->append(b.value("confidence", 0.0), b.value("accuracy", 0.0));
        chart->addSeries(line);
        line->attachAxis(x);
        line->attachAxis(y);
    }
    return chart;
}

} // namespace unirank::ui
