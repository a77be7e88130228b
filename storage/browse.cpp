// SPDX-License-Identifier: GPL-3.0-or-later
#include "storage/browse.h"

#include "storage/repo/catalog.h"

namespace unirank::storage {
namespace {

ScoreEntry readEntry(const Statement &s)
{
    return {s.columnInt(0), s.columnInt(1), s.columnDouble(2), static_cast<int>(s.columnInt(3))};
}

/// candidate id -> score for every query of a score run (or the newest first stage when nullopt).
std::map<std::int64_t, std::map<std::int64_t, double>> scoresOf(Database &db, std::int64_t collectionId,
                                                                std::optional<std::int64_t> version)
{
    std::optional<std::int64_t> run;
    if (version)
        run = latestScoreRun(db, *version, collectionId);
    std::map<std::int64_t, std::map<std::int64_t, double>> out;
    if (run) {
        auto &s = db.cached("SELECT query_id, candidate_id, score FROM scores WHERE score_run_id = ?1");
        s.bind(1, *run);
        while (s.step())
            out[s.columnInt(0)][s.columnInt(1)] = s.columnDouble(2);
        s.reset();
        return out;
    }
    const auto runs = listFirstStageRuns(db, collectionId);
    if (runs.empty())
        return out;
    auto &s = db.cached("SELECT query_id, candidate_id, score FROM candidate_lists WHERE run_id = ?1");
    s.bind(1, runs.back().id);
    while (s.step())
        out[s.columnInt(0)][s.columnInt(1)] = s.columnDouble(2);
    s.reset();
    return out;
}

} // namespace

std::map<std::int64_t, QueryStatus> queryStatus(Database &db, std::int64_t collectionId)
{
    std::map<std::int64_t, QueryStatus> out;
    auto &g = db.cached(R"sql(
        SELECT g.query_id, count(DISTINCT g.candidate_id) FROM graded_labels g JOIN queries q ON q.id = g.query_id
        WHERE q.collection_id = ?1 AND g.retracted_at IS NULL GROUP BY g.query_id)sql");
    g.bind(1, collectionId);
    while (g.step())
        out[g.columnInt(0)].gradedLabels = g.columnInt(1);
    g.reset();
    auto &p = db.cached(R"sql(
        SELECT p.query_id, count(*) FROM pair_labels p JOIN queries q ON q.id = p.query_id
        WHERE q.collection_id = ?1 AND p.retracted_at IS NULL GROUP BY p.query_id)sql");
    p.bind(1, collectionId);
    while (p.step())
        out[p.columnInt(0)].pairLabels = p.columnInt(1);
    p.reset();
    return out;
}

std::map<std::int64_t, int> currentGrades(Database &db, std::int64_t queryId)
{
    // The newest label wins: rows come oldest first and later ones overwrite.
    auto &s = db.cached(R"sql(
        SELECT candidate_id, grade FROM graded_labels WHERE query_id = ?1 AND retracted_at IS NULL ORDER BY id)sql");
    s.bind(1, queryId);
    std::map<std::int64_t, int> out;
    while (s.step())
        out[s.columnInt(0)] = static_cast<int>(s.columnInt(1));
    s.reset();
    return out;
}

std::vector<ScoreEntry> scoreRunQuery(Database &db, std::int64_t scoreRunId, std::int64_t queryId)
{
    auto &s = db.cached(R"sql(
        SELECT query_id, candidate_id, score, rank FROM scores WHERE score_run_id = ?1 AND query_id = ?2
        ORDER BY rank)sql");
    s.bindAll(scoreRunId, queryId);
    return s.collect(readEntry);
}

std::vector<ScoreEntry> firstStageQuery(Database &db, std::int64_t queryId)
{
    auto &s = db.cached(R"sql(
        SELECT l.query_id, l.candidate_id, l.score, l.rank FROM candidate_lists l
        WHERE l.query_id = ?1 AND l.run_id = (SELECT max(r.id) FROM first_stage_runs r
                                              JOIN queries q ON q.collection_id = r.collection_id WHERE q.id = ?1)
        ORDER BY l.rank)sql");
    s.bind(1, queryId);
    return s.collect(readEntry);
}

std::map<std::int64_t, Modality> candidateModalities(Database &db, std::int64_t collectionId)
{
    auto &s = db.cached("SELECT id, modality FROM candidates WHERE collection_id = ?1");
    s.bind(1, collectionId);
    std::map<std::int64_t, Modality> out;
    while (s.step())
        out[s.columnInt(0)] = modalityFromString(s.columnText(1)).value_or(Modality::Text);
    s.reset();
    return out;
}

QueueInput queueInput(Database &db, std::int64_t collectionId, const QueueSources &sources)
{
    QueueInput in;
    const auto active = scoresOf(db, collectionId, sources.activeVersion);
    std::map<std::int64_t, std::map<std::int64_t, double>> other;
    if (sources.otherVersion)
        other = scoresOf(db, collectionId, sources.otherVersion);
    const auto runs = listFirstStageRuns(db, collectionId);
    if (runs.empty())
        return in;
    auto &grades = db.cached(R"sql(
        SELECT g.query_id, g.candidate_id, g.grade FROM graded_labels g JOIN queries q ON q.id = g.query_id
        WHERE q.collection_id = ?1 AND g.retracted_at IS NULL ORDER BY g.id)sql");
    grades.bind(1, collectionId);
    std::map<std::pair<std::int64_t, std::int64_t>, int> grade;
    while (grades.step())
        grade[{grades.columnInt(0), grades.columnInt(1)}] = static_cast<int>(grades.columnInt(2));
    grades.reset();

    auto &s = db.cached("SELECT query_id, candidate_id FROM candidate_lists WHERE run_id = ?1 ORDER BY query_id, rank");
    s.bind(1, runs.back().id);
    while (s.step()) {
        const auto q = s.columnInt(0), c = s.columnInt(1);
        const auto qid = std::to_string(q);
        if (in.queries.empty() || in.queries.back().id != qid)
            in.queries.push_back({qid, {}});
        labeling::QueueCandidate cand{std::to_string(c), 0, std::nullopt, -1};
        if (const auto qa = active.find(q); qa != active.end())
            if (const auto ca = qa->second.find(c); ca != qa->second.end())
                cand.score = ca->second;
        if (const auto qo = other.find(q); qo != other.end())
            if (const auto co = qo->second.find(c); co != qo->second.end())
                cand.otherScore = co->second;
        if (const auto g = grade.find({q, c}); g != grade.end())
            cand.grade = g->second;
        in.queries.back().candidates.push_back(std::move(cand));
    }
    s.reset();

    auto &p = db.cached(R"sql(
        SELECT a.name, p.query_id, p.left_id, p.right_id FROM pair_labels p
        JOIN annotators a ON a.id = p.annotator_id JOIN queries q ON q.id = p.query_id
        WHERE q.collection_id = ?1 AND p.retracted_at IS NULL AND p.source = 'human')sql");
    p.bind(1, collectionId);
    while (p.step())
        in.judged.push_back({p.columnText(0), std::to_string(p.columnInt(1)), std::to_string(p.columnInt(2)),
                             std::to_string(p.columnInt(3))});
    p.reset();
    return in;
}

} // namespace unirank::storage
