// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/query_list_panel.h"

#include "core/eval/metrics.h"
#include "storage/browse.h"
#include "storage/repo/judgements.h"
#include "ui/async_result.h"
#include "ui/query_list_model.h"

#include <QHeaderView>
#include <QLineEdit>
#include <QMenu>
#include <QSortFilterProxyModel>
#include <QTableView>
#include <QVBoxLayout>

#include <map>

namespace unirank::ui {
namespace {

struct StatusData {
    std::map<std::int64_t, std::pair<int, int>> status; ///< graded, pairs
    std::map<std::int64_t, double> metric;
    std::int64_t collectionId = 0;
};

/// Labelling status of every query and nDCG@10 of the version's newest run (or the first stage).
StatusData readStatus(const std::string &file, std::int64_t collection, std::optional<std::int64_t> version)
{
    StatusData out;
    out.collectionId = collection;
    try { // the thread boundary: a failed read leaves the list as it was
        auto db = storage::Database::open(file, storage::Database::Mode::ReadOnly);
        for (const auto &[query, s] : storage::queryStatus(db, collection))
            out.status[query] = {int(s.gradedLabels), int(s.pairLabels)};
        const auto queries = storage::listQueries(db, collection);
        for (const auto &q : queries)
            out.status.try_emplace(q.id, 0, 0);
        const auto qrels = eval::toQrels(storage::currentQrels(db, collection));
        std::vector<RunEntry> entries;
        if (version) {
            if (const auto run = storage::latestScoreRun(db, *version, collection))
                entries = storage::scoreRunEntries(db, *run);
        } else if (const auto runs = storage::listFirstStageRuns(db, collection); !runs.empty()) {
            entries = storage::firstStageEntries(db, runs.back().id);
        }
        if (!entries.empty() && !qrels.empty()) {
            const auto evaluation = eval::evaluateRun(qrels, eval::toRun(entries), {1, false, {"ndcg_cut_10"}});
            std::map<std::string, std::int64_t> ids;
            for (const auto &q : queries)
                ids[q.query.id] = q.id;
            for (const auto &q : evaluation.perQuery)
                if (const auto it = ids.find(q.queryId); it != ids.end())
                    out.metric[it->second] = q.values.at(0);
        }
    } catch (const std::exception &) {
        out.collectionId = -1;
    }
    return out;
}

} // namespace

QueryListPanel::QueryListPanel(ProjectContext &context, QWidget *parent)
    : QWidget(parent)
    , m_context(context)
    , m_model(new QueryListModel(this))
    , m_proxy(new QSortFilterProxyModel(this))
    , m_search(new QLineEdit(this))
    , m_view(new QTableView(this))
{
    m_proxy->setSourceModel(m_model);
    m_proxy->setFilterCaseSensitivity(Qt::CaseInsensitive);
    m_proxy->setFilterKeyColumn(-1);
    m_proxy->setSortRole(Qt::DisplayRole);
    m_search->setPlaceholderText(tr("Search queries"));
    m_search->setClearButtonEnabled(true);
    connect(m_search, &QLineEdit::textChanged, m_proxy, &QSortFilterProxyModel::setFilterFixedString);

    m_view->setModel(m_proxy);
    m_view->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_view->setSelectionMode(QAbstractItemView::SingleSelection);
    m_view->setEditTriggers(QAbstractItemView::NoEditTriggers);
    m_view->setSortingEnabled(true);
    m_view->sortByColumn(-1, Qt::AscendingOrder); // import order until the user sorts
    m_view->verticalHeader()->hide();
    // The text is what one reads: it takes the width and wraps; the counts take what their digits need
    // (measured on the first rows only, so a long query list lays out fast).
    m_view->setWordWrap(true);
    m_view->setTextElideMode(Qt::ElideRight);
    m_view->verticalHeader()->setDefaultSectionSize(2 * fontMetrics().lineSpacing() + 6);
    m_view->horizontalHeader()->setResizeContentsPrecision(64);
    m_view->horizontalHeader()->setSectionResizeMode(QHeaderView::ResizeToContents);
    m_view->horizontalHeader()->setSectionResizeMode(QueryListModel::TextColumn, QHeaderView::Stretch);
    m_view->horizontalHeader()->setMinimumSectionSize(24);
    for (const int column :
         {int(QueryListModel::IdColumn), int(QueryListModel::CandidatesColumn), int(QueryListModel::PairsColumn)})
        m_view->setColumnHidden(column, true);
    m_view->horizontalHeader()->setContextMenuPolicy(Qt::CustomContextMenu);
    connect(m_view->horizontalHeader(), &QWidget::customContextMenuRequested, this, &QueryListPanel::showColumnMenu);
    connect(m_view->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            [this](const QModelIndex &current) {
                if (current.isValid())
                    emit querySelected(m_proxy->data(current, QueryListModel::QueryIdRole).toLongLong());
            });

    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(m_search);
    layout->addWidget(m_view);
}

void QueryListPanel::showColumnMenu(const QPoint &at)
{
    QMenu menu(this);
    for (int c = 0; c < QueryListModel::ColumnCount; ++c) {
        if (c == QueryListModel::TextColumn)
            continue;
        auto *action = menu.addAction(m_model->headerData(c, Qt::Horizontal).toString());
        action->setCheckable(true);
        action->setChecked(!m_view->isColumnHidden(c));
        connect(action, &QAction::toggled, this, [this, c](bool on) { m_view->setColumnHidden(c, !on); });
    }
    menu.exec(m_view->horizontalHeader()->mapToGlobal(at));
}

void QueryListPanel::setQueries(const CollectionSnapshot *snapshot)
{
    std::vector<QueryRowData> rows;
    if (snapshot)
        for (const auto &l : snapshot->lists)
            rows.push_back({l.queryId, QString::fromStdString(l.queryExtId), QString::fromStdString(l.queryText),
                            !l.queryImage.empty(), int(l.items.size()), 0, 0, std::nullopt});
    m_model->setRows(std::move(rows));
}

void QueryListPanel::refreshStatus()
{
    if (!m_context.isOpen() || m_context.collectionId() == 0)
        return;
    const auto file = m_context.project().file().string();
    const auto collection = m_context.collectionId();
    const auto version = m_context.activeVersion();
    const auto generation = ++m_statusGeneration; // the newest read wins
    runThenDeliver(
        this, [file, collection, version] { return readStatus(file, collection, version); },
        [this, generation](const StatusData &loaded) {
            if (generation != m_statusGeneration || loaded.collectionId != m_context.collectionId())
                return;
            for (const auto &[query, counts] : loaded.status)
                m_model->setStatus(query, counts.first, counts.second);
            m_model->setMetric(tr("nDCG@10"), loaded.metric);
        });
}

bool QueryListPanel::contains(std::int64_t queryId) const
{
    return m_model->rowOf(queryId) >= 0;
}

bool QueryListPanel::select(std::int64_t queryId)
{
    const int row = m_model->rowOf(queryId);
    if (row < 0)
        return false;
    auto index = m_proxy->mapFromSource(m_model->index(row, 0));
    if (!index.isValid()) { // filtered out: show everything again
        m_search->clear();
        index = m_proxy->mapFromSource(m_model->index(row, 0));
    }
    m_view->setCurrentIndex(index);
    m_view->scrollTo(index);
    return true;
}

void QueryListPanel::selectFirst()
{
    if (m_proxy->rowCount() > 0)
        m_view->setCurrentIndex(m_proxy->index(0, 0));
}

} // namespace unirank::ui
