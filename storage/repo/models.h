// SPDX-License-Identifier: GPL-3.0-or-later
// Model versions (base checkpoints, adapters, merged exports) with lineage, and score runs: the scores
// and ranks one model version gave a collection's candidate lists.
#pragma once

#include "core/data/types.h"
#include "storage/db/database.h"

#include <optional>
#include <string>
#include <vector>

namespace unirank::storage {

enum class ModelKind { Base, Adapter, Merged };
std::string_view toString(ModelKind kind);

struct ModelVersionRow {
    std::int64_t id = 0;
    std::string name;          ///< unique, e.g. "qwen2vl-2b" or "sft-round-3"
    ModelKind kind = ModelKind::Base;
    std::string path;          ///< folder of the checkpoint or adapter
    std::string contentHash;   ///< hash over the weight files; changes when the weights change
    std::optional<std::int64_t> parentId; ///< required for adapters and merged models
    nlohmann::json metadata = nlohmann::json::object();
    std::string createdAt;
};

/// Inserts a version (id and createdAt of `row` are ignored). Throws StorageError on a duplicate name
/// or a missing parent.
std::int64_t insertModelVersion(Database &db, const ModelVersionRow &row);
std::optional<ModelVersionRow> findModelVersion(Database &db, const std::string &name);
std::vector<ModelVersionRow> listModelVersions(Database &db);
/// The chain from `id` up to its base, `id` first.
std::vector<ModelVersionRow> modelLineage(Database &db, std::int64_t id);

/// What a version scores with: the model folder (the version's own for a base or merged model; for an
/// adapter the nearest non-adapter up its lineage, because an aligned adapter continues its
/// instruction-tuned parent and stands alone on the base) and the adapter folder (empty for none).
struct VersionFolders {
    std::string model;
    std::string adapter;
};
/// nullopt when `id` is unknown or an adapter's lineage has no base.
std::optional<VersionFolders> versionFolders(Database &db, std::int64_t id);

struct ScoreEntry {
    std::int64_t queryId = 0;
    std::int64_t candidateId = 0;
    double score = 0;
    int rank = 1;
};

std::int64_t insertScoreRun(Database &db, std::int64_t modelVersionId, std::int64_t collectionId,
                            const nlohmann::json &params);
void insertScores(Database &db, std::int64_t scoreRunId, const std::vector<ScoreEntry> &scores);
/// The newest score run of a model version on a collection.
std::optional<std::int64_t> latestScoreRun(Database &db, std::int64_t modelVersionId, std::int64_t collectionId);
/// Stored score runs of a version, over every collection.
std::int64_t countScoreRuns(Database &db, std::int64_t modelVersionId);
/// A score run as TREC run lines (external ids), by query then rank.
std::vector<RunEntry> scoreRunEntries(Database &db, std::int64_t scoreRunId);

} // namespace unirank::storage
