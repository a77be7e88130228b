// SPDX-License-Identifier: GPL-3.0-or-later
// The small part of a project every tab asks about, read in one go: its collections, its model
// versions with their folders, how many score runs each version has, the newest run per version
// and collection, and each collection's newest first-stage run. ProjectContext keeps one and re-reads it on a pool
// thread when versions or collections change, so the GUI thread answers "which versions are there" without a database
// read.
//
// Threading: a plain value; read() runs on whichever thread owns the connection.
// Errors: read() throws storage::StorageError.
#pragma once

#include "storage/repo/catalog.h"
#include "storage/repo/models.h"

#include <map>
#include <optional>
#include <utility>
#include <vector>

namespace unirank::ui {

struct ProjectCatalog {
    std::vector<storage::CollectionRow> collections;
    std::vector<storage::ModelVersionRow> versions; ///< parents before children (ids grow)
    std::map<std::int64_t, storage::VersionFolders> folders;
    std::map<std::int64_t, std::int64_t> scoreRunCounts;
    std::map<std::pair<std::int64_t, std::int64_t>, std::int64_t> newestRun; ///< (version, collection)
    std::map<std::int64_t, std::string> firstStageTag; ///< collection -> tag of its newest first-stage run

    static ProjectCatalog read(storage::Database &db);

    const storage::ModelVersionRow *version(std::int64_t id) const;
    const storage::ModelVersionRow *version(const std::string &name) const;
    std::optional<std::int64_t> newestScoreRun(std::int64_t versionId, std::int64_t collectionId) const;
    const storage::CollectionRow *collection(std::int64_t id) const;
};

} // namespace unirank::ui
