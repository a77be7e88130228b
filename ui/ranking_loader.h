// SPDX-License-Identifier: GPL-3.0-or-later
// What the Rank tab shows for one query, read from the project off the GUI thread: the stored ranking
// of the active and the comparison version (the first-stage list for "no version") and the current
// graded labels. Each load runs on a pool thread with its own read-only connection; only the newest
// load's answer is delivered (latest wins), so a fast click through the query list never shows an
// older query's list.
//
//   loader.load({file, collection, query, active, compare, snapshot});   // returns at once
//   // loaded(answer) on the GUI thread
//
// Threading: construct and call on the GUI thread; answers arrive there. A load still running when the
// loader is destroyed finishes on its pool thread and its answer is dropped.
// Errors: a failed read is delivered as answer.error; the rankings are then empty.
#pragma once

#include "ui/collection_snapshot.h"

#include <QObject>
#include <QString>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <vector>

namespace unirank::storage {
class Database;
}

namespace unirank::ui {

/// One candidate's place in a ranking: a score, its probability when the score is a label margin, or
/// the reason it has none.
struct RankedScore {
    std::int64_t candidateId = 0;
    double score = 0;
    std::optional<double> probability;
    std::string error;
};
using Ranking = std::vector<RankedScore>;

class RankingLoader final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RankingLoader)

public:
    struct Request {
        std::string file;
        std::int64_t collectionId = 0;
        std::int64_t queryId = 0;
        std::optional<std::int64_t> active, compare;        ///< nullopt: the first-stage list
        bool readActive = true, readCompare = true;         ///< false: the caller has it (on-demand scores)
        std::shared_ptr<const CollectionSnapshot> snapshot; ///< completes a stored run with unscored candidates
    };
    struct Answer {
        quint64 id = 0;
        std::int64_t queryId = 0;
        std::optional<Ranking> active, compare; ///< nullopt: no stored run (or not read)
        std::map<std::int64_t, int> grades;     ///< candidate -> current grade
        QString error;
    };

    explicit RankingLoader(QObject *parent = nullptr)
        : QObject(parent)
    {
    }

    quint64 load(Request request);
    /// Only the grades (after a label was written): delivered as gradesLoaded unless a newer load or
    /// grades read was started.
    void loadGrades(const std::string &file, std::int64_t queryId);

    /// A version's stored ranking of a query (the first-stage list for nullopt), completed with the
    /// snapshot's unscored candidates; nullopt without a stored run. For pool threads.
    static std::optional<Ranking> readRanking(storage::Database &db, std::optional<std::int64_t> version,
                                              std::int64_t collectionId, std::int64_t queryId,
                                              const CollectionSnapshot *snapshot);

signals:
    void loaded(const unirank::ui::RankingLoader::Answer &answer);
    void gradesLoaded(std::int64_t queryId, const std::map<std::int64_t, int> &grades);

private:
    quint64 m_newest = 0;
    quint64 m_newestGrades = 0;
};

} // namespace unirank::ui
