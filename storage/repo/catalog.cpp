// SPDX-License-Identifier: GPL-3.0-or-later
#include "storage/repo/catalog.h"

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

} // namespace

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
