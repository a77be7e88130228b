// SPDX-License-Identifier: GPL-3.0-or-later
#include "storage/repo/judgements.h"

#include "core/util/error.h"
#include "storage/repo/catalog.h"

namespace unirank::storage {

std::int64_t ensureAnnotator(Database &db, const std::string &name)
{
    if (name.empty() || name.size() > 64)
        throw InputError(SourceLocation{"", 0, "annotator"}, "name must be 1-64 bytes");
    for (const unsigned char c : name)
        if (c <= 0x20 || c == 0x7F)
            throw InputError(SourceLocation{"", 0, "annotator"},
                             "name '" + name + "' must not contain whitespace or control characters");
    db.cached("INSERT INTO annotators (name) VALUES (?1) ON CONFLICT DO NOTHING").bind(1, name).run();
    return db.cached("SELECT id FROM annotators WHERE name = ?1").bind(1, name).first(readId).value();
}

std::vector<AnnotatorRow> listAnnotators(Database &db)
{
    return db.cached("SELECT id, name, created_at FROM annotators ORDER BY id").collect([](const Statement &s) {
        return AnnotatorRow{s.columnInt(0), s.columnText(1), s.columnText(2)};
    });
}

std::int64_t insertGradedLabel(Database &db, std::int64_t queryId, std::int64_t candidateId, int grade,
                               std::int64_t annotatorId, GradedSource source)
{
    return db.cached("INSERT INTO graded_labels (query_id, candidate_id, grade, annotator_id, source) VALUES (?1, ?2, ?3, ?4, ?5) RETURNING id")
        .bindAll(queryId, candidateId, grade, annotatorId, source == GradedSource::Human ? "human" : "imported")
        .runReturningId();
}

namespace {

// table is one of two constants below, never outside input.
bool setRetracted(Database &db, const char *table, std::int64_t labelId, bool retracted)
{
    const std::string value = retracted ? kNowSql : "NULL";
    db.cached(std::string("UPDATE ") + table + " SET retracted_at = " + value + " WHERE id = ?1").bind(1, labelId).run();
    return db.changes() > 0;
}

} // namespace

bool setGradedLabelRetracted(Database &db, std::int64_t labelId, bool retracted)
{
    return setRetracted(db, "graded_labels", labelId, retracted);
}

std::optional<GradedLabelRow> findGradedLabel(Database &db, std::int64_t labelId)
{
    auto &s = db.cached("SELECT id, query_id, candidate_id, grade, annotator_id, source, created_at, retracted_at "
                        "FROM graded_labels WHERE id = ?1");
    s.bind(1, labelId);
    std::optional<GradedLabelRow> row;
    if (s.step())
        row = GradedLabelRow{s.columnInt(0),
                             s.columnInt(1),
                             s.columnInt(2),
                             static_cast<int>(s.columnInt(3)),
                             s.columnInt(4),
                             s.columnText(5) == "human" ? GradedSource::Human : GradedSource::Imported,
                             s.columnText(6),
                             s.columnOptionalText(7)};
    s.reset();
    return row;
}

std::vector<QrelEntry> currentQrels(Database &db, std::int64_t collectionId)
{
    auto &s = db.cached(R"sql(
        WITH live AS (
            SELECT g.id, g.query_id, g.candidate_id, g.grade,
                   row_number() OVER (PARTITION BY g.query_id, g.candidate_id ORDER BY g.id DESC) AS newest,
                   min(g.id) OVER (PARTITION BY g.query_id, g.candidate_id) AS first_id
            FROM graded_labels g JOIN queries q ON q.id = g.query_id
            WHERE q.collection_id = ?1 AND g.retracted_at IS NULL)
        SELECT q.ext_id, c.ext_id, live.grade FROM live
        JOIN queries q ON q.id = live.query_id JOIN candidates c ON c.id = live.candidate_id
        WHERE live.newest = 1 ORDER BY live.first_id)sql");
    s.bind(1, collectionId);
    std::vector<QrelEntry> out;
    while (s.step())
        out.push_back(QrelEntry{s.columnText(0), s.columnText(1), static_cast<int>(s.columnInt(2)), 0});
    s.reset();
    return out;
}

std::int64_t insertPairLabel(Database &db, const PairLabelInput &l)
{
    return db.cached("INSERT INTO pair_labels (query_id, left_id, right_id, outcome, annotator_id, source, shown_swapped, "
              "reason) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id")
        .bindAll(l.queryId, l.leftId, l.rightId, toString(l.outcome), l.annotatorId, toString(l.source),
                 l.shownSwapped ? 1 : 0, l.reason)
        .runReturningId();
}

bool setPairLabelRetracted(Database &db, std::int64_t labelId, bool retracted)
{
    return setRetracted(db, "pair_labels", labelId, retracted);
}

std::optional<PairLabelRow> findPairLabel(Database &db, std::int64_t labelId)
{
    auto &s = db.cached("SELECT id, query_id, left_id, right_id, outcome, annotator_id, source, shown_swapped, reason, "
                        "created_at, retracted_at FROM pair_labels WHERE id = ?1");
    s.bind(1, labelId);
    std::optional<PairLabelRow> row;
    if (s.step()) {
        PairLabelRow r;
        r.id = s.columnInt(0);
        r.input.queryId = s.columnInt(1);
        r.input.leftId = s.columnInt(2);
        r.input.rightId = s.columnInt(3);
        r.input.outcome = pairOutcomeFromString(s.columnText(4)).value_or(PairOutcome::Tie);
        r.input.annotatorId = s.columnOptionalInt(5);
        r.input.source = pairSourceFromString(s.columnText(6)).value_or(PairSource::Human);
        r.input.shownSwapped = s.columnInt(7) != 0;
        r.input.reason = s.columnText(8);
        r.createdAt = s.columnText(9);
        r.retractedAt = s.columnOptionalText(10);
        row = std::move(r);
    }
    s.reset();
    return row;
}

std::vector<PairPreference> currentPreferences(Database &db, std::int64_t collectionId)
{
    auto &s = db.cached(R"sql(
        WITH live AS (
            SELECT p.*, row_number() OVER (
                       PARTITION BY p.query_id, coalesce(p.annotator_id, -1), p.source,
                                    CASE WHEN p.left_id < p.right_id THEN p.left_id ELSE p.right_id END,
                                    CASE WHEN p.left_id < p.right_id THEN p.right_id ELSE p.left_id END
                       ORDER BY p.id DESC) AS newest
            FROM pair_labels p JOIN queries q ON q.id = p.query_id
            WHERE q.collection_id = ?1 AND p.retracted_at IS NULL)
        SELECT live.id, q.ext_id, l.ext_id, r.ext_id, live.outcome, coalesce(a.name, ''), live.source FROM live
        JOIN queries q ON q.id = live.query_id
        JOIN candidates l ON l.id = live.left_id JOIN candidates r ON r.id = live.right_id
        LEFT JOIN annotators a ON a.id = live.annotator_id
        WHERE live.newest = 1 ORDER BY live.id)sql");
    s.bind(1, collectionId);
    std::vector<PairPreference> out;
    while (s.step())
        out.push_back(PairPreference{s.columnInt(0), s.columnText(1), s.columnText(2), s.columnText(3),
                                     pairOutcomeFromString(s.columnText(4)).value_or(PairOutcome::Tie),
                                     s.columnText(5), pairSourceFromString(s.columnText(6)).value_or(PairSource::Human)});
    s.reset();
    return out;
}

} // namespace unirank::storage
