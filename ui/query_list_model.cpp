// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/query_list_model.h"

namespace unirank::ui {

QueryListModel::QueryListModel(QObject *parent) : QAbstractTableModel(parent), m_metricName(tr("Metric")) {}

void QueryListModel::setRows(std::vector<QueryRowData> rows)
{
    beginResetModel();
    m_rows = std::move(rows);
    endResetModel();
}

void QueryListModel::setStatus(std::int64_t queryId, int graded, int pairs)
{
    const int row = rowOf(queryId);
    if (row < 0)
        return;
    auto &r = m_rows[std::size_t(row)];
    r.graded = graded;
    r.pairs = pairs;
    emit dataChanged(index(row, GradedColumn), index(row, PairsColumn), {Qt::DisplayRole});
}

void QueryListModel::setMetric(const QString &metricName, const std::map<std::int64_t, double> &values)
{
    m_metricName = metricName;
    for (auto &r : m_rows) {
        const auto it = values.find(r.queryId);
        r.metric = it == values.end() ? std::nullopt : std::optional(it->second);
    }
    emit headerDataChanged(Qt::Horizontal, MetricColumn, MetricColumn);
    if (!m_rows.empty())
        emit dataChanged(index(0, MetricColumn), index(rowCount() - 1, MetricColumn), {Qt::DisplayRole});
}

int QueryListModel::rowOf(std::int64_t queryId) const
{
    for (std::size_t i = 0; i < m_rows.size(); ++i)
        if (m_rows[i].queryId == queryId)
            return int(i);
    return -1;
}

const QueryRowData *QueryListModel::rowAt(int row) const
{
    return row >= 0 && row < rowCount() ? &m_rows[std::size_t(row)] : nullptr;
}

int QueryListModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_rows.size());
}

int QueryListModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant QueryListModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const auto &r = m_rows[std::size_t(index.row())];
    if (role == QueryIdRole)
        return QVariant::fromValue<qlonglong>(r.queryId);
    if (role == Qt::ToolTipRole)
        return tr("%1: %2\n%3 candidates, %4 graded, %5 pair labels").arg(r.extId, r.text).arg(r.candidates).arg(r.graded).arg(r.pairs);
    if (role == Qt::TextAlignmentRole)
        return index.column() == TextColumn || index.column() == IdColumn ? QVariant()
                                                                          : QVariant(int(Qt::AlignRight | Qt::AlignVCenter));
    if (role != Qt::DisplayRole)
        return {};
    switch (index.column()) {
    case IdColumn: return r.extId;
    case TextColumn: return r.hasImage ? QStringLiteral("[image] ") + r.text : r.text;
    case CandidatesColumn: return r.candidates;
    case GradedColumn: return r.graded;
    case PairsColumn: return r.pairs;
    case MetricColumn: return r.metric ? QVariant(QString::number(*r.metric, 'f', 3)) : QVariant();
    default: return {};
    }
}

QVariant QueryListModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case IdColumn: return tr("Query");
    case TextColumn: return tr("Text");
    case CandidatesColumn: return tr("List");
    case GradedColumn: return tr("Graded");
    case PairsColumn: return tr("Pairs");
    case MetricColumn: return m_metricName;
    default: return {};
    }
}

} // namespace unirank::ui
