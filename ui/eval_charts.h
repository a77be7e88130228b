// SPDX-License-Identifier: GPL-3.0-or-later
// Qt Charts built from an evaluation report's JSON (core/eval/report.h): a metric across the runs
// (versions and training rounds, in the report's order), the image share in the top k against the
// share among the relevant candidates, and the reliability diagram of each model version's
// calibrated probabilities. The caller owns the returned chart (a QChartView takes it).
//
// Threading: GUI thread only.
#pragma once

#include <QtCharts/QChart>

#include <nlohmann/json.hpp>

namespace unirank::ui {

QChart *metricAcrossRunsChart(const nlohmann::json &report, const std::string &metric);
QChart *modalityShareChart(const nlohmann::json &report);
/// Runs whose name starts with "first-stage:" are left out: their scores are not logit margins.
QChart *reliabilityChart(const nlohmann::json &report);

} // namespace unirank::ui
