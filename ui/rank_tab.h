// SPDX-License-Identifier: GPL-3.0-or-later
// The Rank tab: the query list (QueryListPanel: search, labelling status, nDCG@10 of the active version), the ranked
// list of the selected query from the active version, and a detail pane with the zoomable image and
// the full text. A version's ranking comes from its newest stored score run; without one the query
// is scored on demand by the ScoringService, and selecting another query cancels that request
// (latest wins). "Score all" reranks every list and stores the run. Keys 0-3 on a row give a graded
// label; dragging a row onto another records "dragged better than target" as a pairwise preference.
//
// Threading: GUI thread; every database read (the query's rankings and grades through RankingLoader,
// whole-collection status) and the storing of a run happen on pool threads with their own connections. Errors: shown in the status line and emitted as statusMessage.
#pragma once

#include "ui/project_context.h"
#include "ui/query_list_panel.h"
#include "ui/ranked_list_model.h"
#include "ui/ranking_loader.h"

#include <QFutureWatcher>
#include <QWidget>

#include <map>

class QComboBox;
class QLabel;
class QLineEdit;
class QTableView;

namespace unirank::ui {

class CandidateView;
class QueryListModel;
class ThumbnailCache;
class VersionBar;

class RankTab final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RankTab)

public:
    explicit RankTab(ProjectContext &context, QWidget *parent = nullptr);
    ~RankTab() override;

    void selectQuery(std::int64_t queryId);
    std::int64_t currentQuery() const { return m_query; }
    /// Reranks every list of the collection with the active version and stores the score run.
    void scoreAll();

    QTableView *queryView() const { return m_queries->view(); }
    QTableView *rankedView() const { return m_ranked; }
    QueryListModel *queryModel() const { return m_queries->model(); }
    RankedListModel *rankedModel() const { return m_rankedModel; }
    QLineEdit *searchField() const { return m_queries->searchField(); }
    CandidateView *detail() const { return m_detail; }
    QComboBox *activeCombo() const;
    QComboBox *compareCombo() const;
    QString statusText() const;

signals:
    /// The ranked list of this query is on screen (from a stored run or from scoring).
    void rankingShown(std::int64_t queryId);
    void scoringStarted(std::int64_t queryId);
    void scoreAllFinished(bool ok);
    void statusMessage(const QString &message);

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    /// The version's on-demand ranking of the query, if it was scored in this session.
    const Ranking *cached(std::optional<std::int64_t> version, std::int64_t queryId) const;
    void onLoaded(const RankingLoader::Answer &answer);
    void rebuildQueries();
    void refreshRanking();
    void showRows(const Ranking &ranking); ///< with m_grades and m_compareRanking
    void onScored(quint64 request, const std::vector<QueryScores> &results);
    void showDetail();
    void setStatus(const QString &text);
    void gradeCurrent(int grade);

    ProjectContext &m_context;
    QueryListPanel *m_queries;
    RankedListModel *m_rankedModel;
    ThumbnailCache *m_thumbnails;
    QTableView *m_ranked;
    CandidateView *m_detail;
    VersionBar *m_versions;
    QLabel *m_queryHeader;
    QLabel *m_status;
    RankingLoader *m_loader;

    std::int64_t m_query = 0;
    quint64 m_request = 0;          ///< on-demand request for m_query
    quint64 m_scoreAllRequest = 0;
    std::map<std::pair<std::int64_t, std::int64_t>, Ranking> m_cache; ///< on-demand scores by (version, query)
    std::map<std::int64_t, int> m_grades;   ///< of m_query, as last read
    std::optional<Ranking> m_compareRanking; ///< of m_query by the comparison version, as last read
    std::map<quint64, QString> m_saving; ///< label tickets in flight -> the status once saved
    QFutureWatcher<QString> m_storeWatcher;
};

} // namespace unirank::ui
