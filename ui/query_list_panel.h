// SPDX-License-Identifier: GPL-3.0-or-later
// The Rank tab's query list: a search field over a table of the collection's queries (text, graded
// labels, the active version's nDCG@10 by default; the id, list length and pair count one right-click
// on the header away). The rows come from the collection snapshot; each query's labelling status and
// metric are read on a pool thread with their own connection (newest read wins). The current row is
// the query shown: querySelected() follows it.
//
// Threading: GUI thread; the status read runs on a pool thread. Errors: a failed status read leaves
// the counts as they were.
#pragma once

#include "ui/project_context.h"

#include <QWidget>

class QLineEdit;
class QSortFilterProxyModel;
class QTableView;

namespace unirank::ui {

class QueryListModel;

class QueryListPanel final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(QueryListPanel)

public:
    explicit QueryListPanel(ProjectContext &context, QWidget *parent = nullptr);

    /// The snapshot's queries (none without one); the counts follow from refreshStatus().
    void setQueries(const CollectionSnapshot *snapshot);
    /// Re-reads the labelling status and the active version's metric.
    void refreshStatus();
    /// Makes the query current (clearing a search that hides it); false when it is not listed.
    bool select(std::int64_t queryId);
    void selectFirst();
    bool contains(std::int64_t queryId) const;

    QTableView *view() const { return m_view; }
    QueryListModel *model() const { return m_model; }
    QLineEdit *searchField() const { return m_search; }

signals:
    void querySelected(std::int64_t queryId);

private:
    void showColumnMenu(const QPoint &at);

    ProjectContext &m_context;
    QueryListModel *m_model;
    QSortFilterProxyModel *m_proxy;
    QLineEdit *m_search;
    QTableView *m_view;
    quint64 m_statusGeneration = 0; ///< the newest status read; older answers are dropped
};

} // namespace unirank::ui
