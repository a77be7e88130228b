// SPDX-License-Identifier: GPL-3.0-or-later
#include "storage/repo/models.h"

#include "storage/repo/catalog.h"

namespace unirank::storage {
namespace {

constexpr const char *kSelect =
    "SELECT id, name, kind, path, content_hash, parent_id, metadata, created_at FROM model_versions ";

ModelKind kindFromString(const std::string &s)
{
    return s == "adapter" ? ModelKind::Adapter : s == "merged" ? ModelKind::Merged : ModelKind::Base;
}

ModelVersionRow readRow(const Statement &s)
{
    return ModelVersionRow{s.columnInt(0),     s.columnText(1),       kindFromString(s.columnText(2)),
                           s.columnText(3),    s.columnText(4),       s.columnOptionalInt(5),
                           nlohmann::json::parse(s.columnText(6)), s.columnText(7)};
}

} // namespace

std::string_view toString(ModelKind kind)
{
    switch (kind) {
    case ModelKind::Base: return "base";
    case ModelKind::Adapter: return "adapter";
    case ModelKind::Merged: return "merged";
    }
    return "base";
}

std::int64_t insertModelVersion(Database &db, const ModelVersionRow &r)
{
    return db.cached("INSERT INTO model_versions (name, kind, path, content_hash, parent_id, metadata) "
              "VALUES (?1, ?2, ?3, ?4, ?5, ?6) RETURNING id")
        .bindAll(r.name, toString(r.kind), r.path, r.contentHash, r.parentId, r.metadata.dump())
        .runReturningId();
}

std::optional<ModelVersionRow> findModelVersion(Database &db, const std::string &name)
{
    return db.cached(std::string(kSelect) + "WHERE name = ?1").bind(1, name).first(readRow);
}

std::vector<ModelVersionRow> listModelVersions(Database &db)
{
    return db.cached(std::string(kSelect) + "ORDER BY id").collect(readRow);
}

std::vector<ModelVersionRow> modelLineage(Database &db, std::int64_t id)
{
    std::vector<ModelVersionRow> chain;
    std::optional<std::int64_t> next = id;
    auto &s = db.cached(std::string(kSelect) + "WHERE id = ?1");
    while (next && chain.size() < 10000) {
        s.bind(1, *next);
        if (!s.step()) {
            s.reset();
            break;
        }
        chain.push_back(readRow(s));
        s.reset();
        next = chain.back().parentId;
    }
    return chain;
}

std::optional<VersionFolders> versionFolders(Database &db, std::int64_t id)
{
    const auto lineage = modelLineage(db, id);
    if (lineage.empty())
        return std::nullopt;
    if (lineage.front().kind != ModelKind::Adapter)
        return VersionFolders{lineage.front().path, {}};
    for (const auto &v : lineage)
        if (v.kind != ModelKind::Adapter)
            return VersionFolders{v.path, lineage.front().path};
    return std::nullopt;
}

std::int64_t insertScoreRun(Database &db, std::int64_t modelVersionId, std::int64_t collectionId,
                            const nlohmann::json &params)
{
    return db.cached("INSERT INTO score_runs (model_version_id, collection_id, params) VALUES (?1, ?2, ?3) RETURNING id")
        .bindAll(modelVersionId, collectionId, params.dump())
        .runReturningId();
}

void insertScores(Database &db, std::int64_t scoreRunId, const std::vector<ScoreEntry> &scores)
{
    auto &s = db.cached("INSERT INTO scores (score_run_id, query_id, candidate_id, score, rank) VALUES (?1, ?2, ?3, ?4, ?5)");
    for (const auto &e : scores)
        s.bindAll(scoreRunId, e.queryId, e.candidateId, e.score, e.rank).run();
}

std::optional<std::int64_t> latestScoreRun(Database &db, std::int64_t modelVersionId, std::int64_t collectionId)
{
    auto &s = db.cached("SELECT max(id) FROM score_runs WHERE model_version_id = ?1 AND collection_id = ?2");
    s.bindAll(modelVersionId, collectionId);
    std::optional<std::int64_t> id;
    if (s.step())
        id = s.columnOptionalInt(0);
    s.reset();
    return id;
}

std::int64_t countScoreRuns(Database &db, std::int64_t modelVersionId)
{
    auto &s = db.cached("SELECT count(*) FROM score_runs WHERE model_version_id = ?1");
    s.bind(1, modelVersionId);
    const auto n = s.step() ? s.columnInt(0) : 0;
    s.reset();
    return n;
}

std::vector<RunEntry> scoreRunEntries(Database &db, std::int64_t scoreRunId)
{
    return db.cached("SELECT q.ext_id, c.ext_id, s.rank, s.score, m.name FROM scores s "
                     "JOIN queries q ON q.id = s.query_id JOIN candidates c ON c.id = s.candidate_id "
                     "JOIN score_runs r ON r.id = s.score_run_id JOIN model_versions m ON m.id = r.model_version_id "
                     "WHERE s.score_run_id = ?1 ORDER BY s.query_id, s.rank, c.ext_id")
        .bind(1, scoreRunId)
        .collect(readRunEntry);
}

} // namespace unirank::storage
