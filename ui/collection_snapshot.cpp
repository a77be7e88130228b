// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/collection_snapshot.h"

#include "storage/browse.h"
#include "storage/errors.h"
#include "storage/repo/catalog.h"

namespace unirank::ui {

const storage::CandidateList *CollectionSnapshot::list(std::int64_t queryId) const
{
    const auto it = index.find(queryId);
    return it == index.end() ? nullptr : &lists[it->second];
}

const storage::ListItem *CollectionSnapshot::item(std::int64_t queryId, std::int64_t candidateId) const
{
    const auto *l = list(queryId);
    if (!l)
        return nullptr;
    for (const auto &i : l->items)
        if (i.candidateId == candidateId)
            return &i;
    return nullptr;
}

Modality CollectionSnapshot::modalityOf(std::int64_t candidateId) const
{
    const auto it = modality.find(candidateId);
    return it == modality.end() ? Modality::Text : it->second;
}

Result<std::shared_ptr<const CollectionSnapshot>> loadSnapshot(const std::string &projectFile, std::int64_t collectionId)
{
    auto project = storage::Project::open(projectFile);
    if (!project)
        return std::unexpected(project.error());
    return storage::capture([&] {
        auto s = std::make_shared<CollectionSnapshot>();
        s->collectionId = collectionId;
        if (!storage::listFirstStageRuns((*project)->db(), collectionId).empty())
            s->lists = storage::firstStageLists(**project, collectionId);
        for (std::size_t i = 0; i < s->lists.size(); ++i)
            s->index[s->lists[i].queryId] = i;
        s->modality = storage::candidateModalities((*project)->db(), collectionId);
        return std::shared_ptr<const CollectionSnapshot>(std::move(s));
    });
}

} // namespace unirank::ui
