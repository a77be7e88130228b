// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/evaluation_model.h"

#include <sstream>

namespace unirank::ui {
namespace {

const nlohmann::json &runs(const nlohmann::json &report)
{
    static const nlohmann::json empty = nlohmann::json::array();
    return report.contains("runs") ? report.at("runs") : empty;
}

std::string number(double v)
{
    std::ostringstream s;
    s.precision(6);
    s << v;
    return s.str();
}

std::string csvField(const std::string &s)
{
    if (s.find_first_of(",\"\n") == std::string::npos)
        return s;
    std::string out = "\"";
    for (const char c : s)
        out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

} // namespace

EvaluationModel::EvaluationModel(QObject *parent) : QAbstractTableModel(parent) {}

void EvaluationModel::setReport(nlohmann::json report, QStringList metrics)
{
    beginResetModel();
    m_report = std::move(report);
    m_metrics = std::move(metrics);
    endResetModel();
}

QStringList EvaluationModel::runNames() const
{
    QStringList out;
    for (const auto &r : runs(m_report))
        out << QString::fromStdString(r.value("name", std::string()));
    return out;
}

QString EvaluationModel::stars(double p)
{
    if (p < 0.01)
        return QStringLiteral("**");
    if (p < 0.05)
        return QStringLiteral("*");
    return {};
}

const nlohmann::json *EvaluationModel::comparison(const std::string &run, const std::string &metric) const
{
    if (!m_report.contains("comparisons"))
        return nullptr;
    for (const auto &c : m_report.at("comparisons"))
        if (c.value("run", std::string()) == run && c.value("metric", std::string()) == metric)
            return &c;
    return nullptr;
}

std::string EvaluationModel::toCsv() const
{
    std::string out = "run,metric,mean,mean_difference,p,p_holm,ci95_low,ci95_high\n";
    for (const auto &r : runs(m_report)) {
        const auto name = r.value("name", std::string());
        for (const auto &m : m_metrics) {
            const auto metric = m.toStdString();
            const auto &mean = r.at("mean");
            out += csvField(name) + "," + metric + "," + (mean.contains(metric) ? number(mean.at(metric).get<double>()) : "");
            if (const auto *c = comparison(name, metric)) {
                out += "," + number(c->at("mean_difference").get<double>()) + "," + number(c->at("p").get<double>()) + "," +
                       number(c->at("p_holm").get<double>()) + "," + number(c->at("ci95")[0].get<double>()) + "," +
                       number(c->at("ci95")[1].get<double>());
            } else {
                out += ",,,,,";
            }
            out += "\n";
        }
    }
    return out;
}

int EvaluationModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(runs(m_report).size());
}

int EvaluationModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_metrics.size());
}

QVariant EvaluationModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const auto &run = runs(m_report)[std::size_t(index.row())];
    const auto name = run.value("name", std::string());
    const auto metric = m_metrics[index.column()].toStdString();
    const auto &mean = run.at("mean");
    if (role == RunNameRole)
        return QString::fromStdString(name);
    if (!mean.contains(metric))
        return {};
    const double value = mean.at(metric).get<double>();
    const auto *c = comparison(name, metric);
    switch (role) {
    case ValueRole:
        return value;
    case PValueRole:
        return c ? QVariant(c->at("p_holm").get<double>()) : QVariant();
    case Qt::DisplayRole: {
        QString text = QString::number(value, 'f', 4);
        if (c) {
            const double p = c->at("p_holm").get<double>();
            const auto marker = stars(p);
            if (!marker.isEmpty())
                text += (c->at("mean_difference").get<double>() > 0 ? QStringLiteral(" ▲") : QStringLiteral(" ▼")) + marker;
        }
        return text;
    }
    case Qt::ToolTipRole:
        if (!c)
            return index.row() == 0 ? tr("baseline") : QVariant();
        return tr("difference %1, 95% CI [%2, %3]\np = %4, Holm-adjusted p = %5")
            .arg(c->at("mean_difference").get<double>(), 0, 'f', 4)
            .arg(c->at("ci95")[0].get<double>(), 0, 'f', 4)
            .arg(c->at("ci95")[1].get<double>(), 0, 'f', 4)
            .arg(c->at("p").get<double>(), 0, 'g', 3)
            .arg(c->at("p_holm").get<double>(), 0, 'g', 3);
    case Qt::TextAlignmentRole:
        return int(Qt::AlignRight | Qt::AlignVCenter);
    default:
        return {};
    }
}

QVariant EvaluationModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    if (orientation == Qt::Horizontal)
        return section >= 0 && section < m_metrics.size() ? QVariant(m_metrics[section]) : QVariant();
    const auto &r = runs(m_report);
    if (section < 0 || std::size_t(section) >= r.size())
        return {};
    const auto name = QString::fromStdString(r[std::size_t(section)].value("name", std::string()));
    return section == 0 ? tr("%1 (baseline)").arg(name) : name;
}

} // namespace unirank::ui
