// SPDX-License-Identifier: GPL-3.0-or-later
// The Rank tab's query list: id, text, list length, labelling status (graded candidates, pair labels)
// and a metric of the active model version per query. Filter it with a QSortFilterProxyModel.
//
// Threading: GUI thread only. Ownership: a QObject child of whoever shows it.
#pragma once

#include <QAbstractTableModel>

#include <map>
#include <optional>
#include <vector>

namespace unirank::ui {

struct QueryRowData {
    std::int64_t queryId = 0;
    QString extId, text;
    bool hasImage = false;
    int candidates = 0;
    int graded = 0;
    int pairs = 0;
    std::optional<double> metric;
};

class QueryListModel final : public QAbstractTableModel {
    Q_OBJECT

public:
    enum Column { IdColumn, TextColumn, CandidatesColumn, GradedColumn, PairsColumn, MetricColumn, ColumnCount };
    enum Role { QueryIdRole = Qt::UserRole + 1 };

    explicit QueryListModel(QObject *parent = nullptr);

    void setRows(std::vector<QueryRowData> rows);
    /// Updates one query's label counts in place (after a label, an undo or a redo).
    void setStatus(std::int64_t queryId, int graded, int pairs);
    /// Per-query values of `metricName` for the active version; queries absent from `values` show none.
    void setMetric(const QString &metricName, const std::map<std::int64_t, double> &values);
    int rowOf(std::int64_t queryId) const;
    const QueryRowData *rowAt(int row) const;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

private:
    std::vector<QueryRowData> m_rows;
    QString m_metricName;
};

} // namespace unirank::ui
