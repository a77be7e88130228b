// SPDX-License-Identifier: GPL-3.0-or-later
// What scoring needs from a project and gives back: the first-stage candidate lists of a collection
// with each candidate's text and image file, and the storing of a score run (scores and ranks per list)
// tied to a model version, in one transaction. Model-agnostic: the scorer itself lives in core/scoring.
//
// Threading: uses the caller's Database on the caller's thread. Errors: StorageError from SQLite,
// InputError when the collection has no first-stage list.
#pragma once

#include "storage/project.h"
#include "storage/repo/models.h"

#include <filesystem>

namespace unirank::storage {

struct ListItem {
    std::int64_t candidateId = 0;
    std::string extId;
    std::string text;
    std::filesystem::path image; ///< absolute, in the project's media folder; empty for text
    std::string imageHash;       ///< sha256 of the image bytes
};

struct CandidateList {
    std::int64_t queryId = 0;
    std::string queryExtId;
    std::string queryText;
    std::filesystem::path queryImage; ///< absolute; empty when the query has no image
    std::string queryImageHash;
    std::vector<ListItem> items; ///< first-stage order
};

/// The newest first-stage run of the collection, as lists per query (import order).
std::vector<CandidateList> firstStageLists(Project &project, std::int64_t collectionId);

/// The model version with this content hash (by name), inserted when absent. A name taken by other
/// weights gets the hash's first 8 characters appended.
std::int64_t ensureModelVersion(Database &db, const std::string &name, ModelKind kind, const std::string &path,
                                const std::string &contentHash, std::optional<std::int64_t> parentId = {},
                                const nlohmann::json &metadata = nlohmann::json::object());

struct ScoredItem {
    std::int64_t queryId = 0;
    std::int64_t candidateId = 0;
    double score = 0;
};

/// Stores one score run; ranks are 1.. by descending score within each query (ties by candidate id).
/// Returns the run's id.
std::int64_t storeScoreRun(Database &db, std::int64_t modelVersionId, std::int64_t collectionId,
                           const nlohmann::json &params, std::vector<ScoredItem> items);

} // namespace unirank::storage
