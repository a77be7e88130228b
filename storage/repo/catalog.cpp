// SPDX-License-Identifier: GPL-3.0-or-later
#include "storage/repo/catalog.h"

#include <algorithm>
#include <unordered_map>

namespace unirank::storage {
namespace {

std::string metadataText(const nlohmann::json &m) { return m.is_object() ? m.dump() : "{}"; }

nlohmann::json parseMetadata(const std::string &s) { return s.empty() ? nlohmann::json::object() : nlohmann::json::parse(s); }

CollectionRow readCollection(const Statement &s)
{
    return CollectionRow{s.columnInt(0), s.columnText(1), s.columnText(2), s.columnText(3), s.columnText(4)};
}

MediaRow readMedia(const Statement &s)
{
    MediaRow m;
    m.hash = s.columnText(0);
    m.relPath = s.columnText(1);
    m.info.format = s.columnText(2);
    m.info.width = static_cast<int>(s.columnInt(3));
    m.info.height = static_cast<int>(s.columnInt(4));
    m.bytes = static_cast<std::uint64_t>(s.columnInt(5));
    return m;
}

/// Multi-row INSERTs: `INSERT INTO <head> VALUES (?, ...), (?, ...)<tail>`, kBatchRows rows per statement
/// (a server answers each statement in one round trip). `bindRow(statement, firstParameter, i)` binds
/// row i; `readRow(statement, firstIndexOfTheChunk)` reads each row the statement returns.
constexpr std::size_t kBatchRows = 256;

template <typename Bind, typename Read>
void insertInBatches(Database &db, const std::string &head, int columns, std::size_t rows, const std::string &tail,
                     Bind &&bindRow, Read &&readRow)
{
    const auto sqlFor = [&](std::size_t n) {
        std::string sql = "INSERT INTO " + head + " VALUES ";
        int p = 0;
        for (std::size_t r = 0; r < n; ++r) {
            sql += r ? ", (" : "(";
            for (int c = 0; c < columns; ++c)
                sql += (c ? ", ?" : "?") + std::to_string(++p);
            sql += ")";
        }
        return sql + tail;
    };
    std::optional<Statement> last;
    for (std::size_t first = 0; first < rows; first += kBatchRows) {
        const auto n = std::min(kBatchRows, rows - first);
        Statement *s = nullptr;
        if (n == kBatchRows) {
            s = &db.cached(sqlFor(n));
        } else {
            last.emplace(db.prepare(sqlFor(n)));
            s = &*last;
        }
        for (std::size_t r = 0; r < n; ++r)
            bindRow(*s, static_cast<int>(r) * columns + 1, first + r);
        while (s->step())
            readRow(*s, first);
        s->reset();
    }
}

} // namespace

std::vector<std::int64_t> insertCandidates(Database &db, std::int64_t collectionId, const std::vector<Candidate> &candidates,
                                           const std::vector<std::optional<std::string>> &imageHashes)
{
    std::vector<std::int64_t> ids(candidates.size(), 0);
    std::unordered_map<std::string_view, std::size_t> indexOf;
    for (std::size_t i = 0; i < candidates.size(); ++i)
        indexOf.emplace(candidates[i].id, i);
    insertInBatches(
        db, "candidates (collection_id, ext_id, modality, title, text, image_hash, image_path, metadata)", 8,
        candidates.size(), " RETURNING id, ext_id",
        [&](Statement &s, int p, std::size_t i) {
            const auto &c = candidates[i];
            s.bind(p, collectionId).bind(p + 1, c.id).bind(p + 2, toString(c.modality)).bind(p + 3, c.title);
            s.bind(p + 4, c.text).bind(p + 5, imageHashes[i]).bind(p + 6, c.imagePath).bind(p + 7, metadataText(c.metadata));
        },
        [&](const Statement &s, std::size_t) { ids[indexOf.at(s.columnText(1))] = s.columnInt(0); });
    return ids;
}

void insertListEntries(Database &db, std::int64_t runId, const std::vector<ListEntryRow> &entries)
{
    insertInBatches(
        db, "candidate_lists (run_id, query_id, candidate_id, rank, score)", 5, entries.size(), "",
        [&](Statement &s, int p, std::size_t i) {
            const auto &e = entries[i];
            s.bind(p, runId).bind(p + 1, e.queryId).bind(p + 2, e.candidateId).bind(p + 3, e.rank).bind(p + 4, e.score);
        },
        [](const Statement &, std::size_t) {});
}

std::int64_t insertCollection(Database &db, const std::string &name, const std::string &split,
                              const std::string &sourcePath)
{
    return db.cached("INSERT INTO collections (name, split, source_path) VALUES (?1, ?2, ?3) RETURNING id")
        .bindAll(name, split, sourcePath)
        .runReturningId();
}

std::optional<CollectionRow> findCollection(Database &db, const std::string &name)
{
    return db.cached("SELECT id, name, split, source_path, created_at FROM collections WHERE name = ?1")
        .bind(1, name)
        .first(readCollection);
}

std::vector<CollectionRow> listCollections(Database &db)
{
    return db.cached("SELECT id, name, split, source_path, created_at FROM collections ORDER BY id")
        .collect(readCollection);
}

bool insertMedia(Database &db, const MediaRow &m)
{
    db.cached("INSERT INTO media (hash, rel_path, format, width, height, bytes) VALUES (?1, ?2, ?3, ?4, ?5, ?6) "
              "ON CONFLICT DO NOTHING")
        .bindAll(m.hash, m.relPath, m.info.format, m.info.width, m.info.height, static_cast<std::int64_t>(m.bytes))
        .run();
    return db.changes() > 0;
}

std::optional<MediaRow> findMedia(Database &db, const std::string &hash)
{
    return db.cached("SELECT hash, rel_path, format, width, height, bytes FROM media WHERE hash = ?1")
        .bind(1, hash)
        .first(readMedia);
}

std::int64_t insertQuery(Database &db, std::int64_t collectionId, const Query &q,
                         const std::optional<std::string> &imageHash)
{
    return db.cached("INSERT INTO queries (collection_id, ext_id, text, image_hash, image_path, metadata) "
              "VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id")
        .bindAll(collectionId, q.id, q.text, imageHash, q.imagePath, metadataText(q.metadata))
        .runReturningId();
}

std::int64_t insertCandidate(Database &db, std::int64_t collectionId, const Candidate &c,
                             const std::optional<std::string> &imageHash)
{
    return db.cached("INSERT INTO candidates (collection_id, ext_id, modality, title, text, image_hash, image_path, metadata) "
              "VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8) RETURNING id")
        .bindAll(collectionId, c.id, toString(c.modality), c.title, c.text, imageHash, c.imagePath,
                 metadataText(c.metadata))
        .runReturningId();
}

std::vector<QueryRow> listQueries(Database &db, std::int64_t collectionId)
{
    auto &s = db.cached("SELECT id, ext_id, text, image_hash, image_path, metadata FROM queries "
                        "WHERE collection_id = ?1 ORDER BY id");
    s.bind(1, collectionId);
    std::vector<QueryRow> out;
    while (s.step()) {
        QueryRow r;
        r.id = s.columnInt(0);
        r.collectionId = collectionId;
        r.query.id = s.columnText(1);
        r.query.text = s.columnText(2);
        r.imageHash = s.columnOptionalText(3);
        r.query.imagePath = s.columnText(4);
        r.query.metadata = parseMetadata(s.columnText(5));
        out.push_back(std::move(r));
    }
    s.reset();
    return out;
}

std::vector<CandidateRow> listCandidates(Database &db, std::int64_t collectionId)
{
    auto &s = db.cached("SELECT id, ext_id, modality, title, text, image_hash, image_path, metadata FROM candidates "
                        "WHERE collection_id = ?1 ORDER BY id");
    s.bind(1, collectionId);
    std::vector<CandidateRow> out;
    while (s.step()) {
        CandidateRow r;
        r.id = s.columnInt(0);
        r.collectionId = collectionId;
        r.candidate.id = s.columnText(1);
        r.candidate.modality = modalityFromString(s.columnText(2)).value_or(Modality::Text);
        r.candidate.title = s.columnText(3);
        r.candidate.text = s.columnText(4);
        r.imageHash = s.columnOptionalText(5);
        r.candidate.imagePath = s.columnText(6);
        r.candidate.metadata = parseMetadata(s.columnText(7));
        out.push_back(std::move(r));
    }
    s.reset();
    return out;
}

std::optional<std::int64_t> findQueryId(Database &db, std::int64_t collectionId, const std::string &extId)
{
    return db.cached("SELECT id FROM queries WHERE collection_id = ?1 AND ext_id = ?2")
        .bindAll(collectionId, extId)
        .first(readId);
}

std::optional<std::int64_t> findCandidateId(Database &db, std::int64_t collectionId, const std::string &extId)
{
    return db.cached("SELECT id FROM candidates WHERE collection_id = ?1 AND ext_id = ?2")
        .bindAll(collectionId, extId)
        .first(readId);
}

std::int64_t insertFirstStageRun(Database &db, std::int64_t collectionId, const std::string &tag)
{
    return db.cached("INSERT INTO first_stage_runs (collection_id, tag) VALUES (?1, ?2) RETURNING id")
        .bindAll(collectionId, tag)
        .runReturningId();
}

void insertListEntry(Database &db, std::int64_t runId, std::int64_t queryId, std::int64_t candidateId, int rank,
                     double score)
{
    db.cached("INSERT INTO candidate_lists (run_id, query_id, candidate_id, rank, score) VALUES (?1, ?2, ?3, ?4, ?5)")
        .bindAll(runId, queryId, candidateId, rank, score)
        .run();
}

std::vector<FirstStageRunRow> listFirstStageRuns(Database &db, std::int64_t collectionId)
{
    return db.cached("SELECT id, tag FROM first_stage_runs WHERE collection_id = ?1 ORDER BY id")
        .bind(1, collectionId)
        .collect([&](const Statement &s) { return FirstStageRunRow{s.columnInt(0), collectionId, s.columnText(1)}; });
}

std::vector<RunEntry> firstStageEntries(Database &db, std::int64_t runId)
{
    return db.cached("SELECT q.ext_id, c.ext_id, l.rank, l.score, r.tag FROM candidate_lists l "
                     "JOIN queries q ON q.id = l.query_id JOIN candidates c ON c.id = l.candidate_id "
                     "JOIN first_stage_runs r ON r.id = l.run_id "
                     "WHERE l.run_id = ?1 ORDER BY l.query_id, l.rank, c.ext_id")
        .bind(1, runId)
        .collect(readRunEntry);
}

std::int64_t readId(const Statement &s) { return s.columnInt(0); }

RunEntry readRunEntry(const Statement &s)
{
    return RunEntry{s.columnText(0), s.columnText(1), static_cast<int>(s.columnInt(2)), s.columnDouble(3),
                    s.columnText(4), 0};
}

} // namespace unirank::storage
