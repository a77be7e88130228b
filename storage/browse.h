// SPDX-License-Identifier: GPL-3.0-or-later
// Read-only views the desktop app browses a collection with: per-query labelling status, the current
// grades of one query, one query's ranking in a score run or the first stage, the candidates'
// modalities, and the pair-queue input (lists with the active and a second version's scores, grades
// and who judged which pair). Small indexed queries: fast enough for the GUI thread on one query; the
// whole-collection ones (queueQueries) belong on a worker.
//
// Threading: the caller's connection on the caller's thread. Errors: StorageError from SQLite.
#pragma once

#include "core/labeling/pair_queue.h"
#include "storage/repo/models.h"
#include "storage/db/database.h"

#include <map>
#include <optional>

namespace unirank::storage {

struct QueryStatus {
    std::int64_t gradedLabels = 0; ///< current graded judgements
    std::int64_t pairLabels = 0;   ///< pairwise labels, not retracted
};

/// By query id, for every query of the collection that has labels.
std::map<std::int64_t, QueryStatus> queryStatus(Database &db, std::int64_t collectionId);

/// The newest non-retracted grade of each judged candidate of the query, by candidate id.
std::map<std::int64_t, int> currentGrades(Database &db, std::int64_t queryId);

/// One query's entries of a score run (rank order).
std::vector<ScoreEntry> scoreRunQuery(Database &db, std::int64_t scoreRunId, std::int64_t queryId);
/// One query's entries of the newest first-stage run of its collection (rank order); empty when none.
std::vector<ScoreEntry> firstStageQuery(Database &db, std::int64_t queryId);

/// By candidate id.
std::map<std::int64_t, Modality> candidateModalities(Database &db, std::int64_t collectionId);

/// A version to draw scores from: a model version's newest score run, or the first stage (nullopt).
struct QueueSources {
    std::optional<std::int64_t> activeVersion;
    std::optional<std::int64_t> otherVersion; ///< for disagreements; none when absent
};

/// The pair queue's input: every first-stage list with scores (candidate ids as strings of their row
/// ids), grades, and the pairs each annotator judged. A version without a score run falls back to
/// the first-stage scores.
struct QueueInput {
    std::vector<labeling::QueueQuery> queries;
    struct Judged {
        std::string annotator, queryId, a, b;
    };
    std::vector<Judged> judged;
};
QueueInput queueInput(Database &db, std::int64_t collectionId, const QueueSources &sources);

} // namespace unirank::storage
