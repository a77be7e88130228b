// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/project_catalog.h"

#include <algorithm>

namespace unirank::ui {

ProjectCatalog ProjectCatalog::read(storage::Database &db)
{
    ProjectCatalog c;
    c.collections = storage::listCollections(db);
    c.versions = storage::listModelVersions(db);
    for (const auto &col : c.collections)
        if (const auto runs = storage::listFirstStageRuns(db, col.id); !runs.empty())
            c.firstStageTag[col.id] = runs.back().tag;
    for (const auto &v : c.versions) {
        if (auto folders = storage::versionFolders(db, v.id))
            c.folders.emplace(v.id, std::move(*folders));
        c.scoreRunCounts[v.id] = storage::countScoreRuns(db, v.id);
        for (const auto &col : c.collections)
            if (const auto run = storage::latestScoreRun(db, v.id, col.id))
                c.newestRun[{v.id, col.id}] = *run;
    }
    return c;
}

const storage::ModelVersionRow *ProjectCatalog::version(std::int64_t id) const
{
    const auto it = std::find_if(versions.begin(), versions.end(), [&](const auto &v) { return v.id == id; });
    return it == versions.end() ? nullptr : &*it;
}

const storage::ModelVersionRow *ProjectCatalog::version(const std::string &name) const
{
    const auto it = std::find_if(versions.begin(), versions.end(), [&](const auto &v) { return v.name == name; });
    return it == versions.end() ? nullptr : &*it;
}

std::optional<std::int64_t> ProjectCatalog::newestScoreRun(std::int64_t versionId, std::int64_t collectionId) const
{
    const auto it = newestRun.find({versionId, collectionId});
    return it == newestRun.end() ? std::nullopt : std::optional(it->second);
}

} // namespace unirank::ui

namespace unirank::ui {

const storage::CollectionRow *ProjectCatalog::collection(std::int64_t id) const
{
    const auto it = std::find_if(collections.begin(), collections.end(), [&](const auto &c) { return c.id == id; });
    return it == collections.end() ? nullptr : &*it;
}

} // namespace unirank::ui
