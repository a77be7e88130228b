// SPDX-License-Identifier: GPL-3.0-or-later
#include "storage/score_store.h"

#include "storage/media_store.h"
#include "storage/repo/catalog.h"

#include <algorithm>
#include <map>

namespace unirank::storage {

std::vector<CandidateList> firstStageLists(Project &project, std::int64_t collectionId)
{
    auto &db = project.db();
    const auto runs = listFirstStageRuns(db, collectionId);
    if (runs.empty())
        throw InputError("the collection has no first-stage candidate list to score");
    const MediaStore &media = project.media();
    std::map<std::string, const CandidateRow *> candidates;
    const auto candidateRows = listCandidates(db, collectionId);
    for (const auto &c : candidateRows)
        candidates[c.candidate.id] = &c;
    std::map<std::string, const QueryRow *> queries;
    const auto queryRows = listQueries(db, collectionId);
    for (const auto &q : queryRows)
        queries[q.query.id] = &q;
    std::vector<CandidateList> lists;
    std::map<std::string, std::size_t> listOf;
    for (const auto &entry : firstStageEntries(db, runs.back().id)) {
        auto [it, fresh] = listOf.emplace(entry.queryId, lists.size());
        if (fresh) {
            const auto *q = queries.at(entry.queryId);
            CandidateList list{q->id, q->query.id, q->query.text, {}, q->imageHash.value_or(""), {}};
            if (q->imageHash)
                if (const auto row = findMedia(db, *q->imageHash))
                    list.queryImage = media.absolutePath(row->relPath);
            lists.push_back(std::move(list));
        }
        const auto *c = candidates.at(entry.docId);
        ListItem item{c->id, c->candidate.id, c->candidate.text, {}, c->imageHash.value_or("")};
        if (c->imageHash) {
            const auto row = findMedia(db, *c->imageHash);
            if (row)
                item.image = media.absolutePath(row->relPath);
        }
        lists[it->second].items.push_back(std::move(item));
    }
    return lists;
}

std::int64_t ensureModelVersion(Database &db, const std::string &name, ModelKind kind, const std::string &path,
                                const std::string &contentHash, std::optional<std::int64_t> parentId,
                                const nlohmann::json &metadata)
{
    for (const auto &v : listModelVersions(db))
        if (v.contentHash == contentHash && v.kind == kind && v.parentId == parentId)
            return v.id;
    auto unique = name;
    if (findModelVersion(db, unique))
        unique += "@" + contentHash.substr(0, 8);
    ModelVersionRow row;
    row.name = unique;
    row.kind = kind;
    row.path = path;
    row.contentHash = contentHash;
    row.parentId = parentId;
    row.metadata = metadata;
    return insertModelVersion(db, row);
}

std::int64_t storeScoreRun(Database &db, std::int64_t modelVersionId, std::int64_t collectionId,
                           const nlohmann::json &params, std::vector<ScoredItem> items)
{
    std::stable_sort(items.begin(), items.end(), [](const ScoredItem &a, const ScoredItem &b) {
        if (a.queryId != b.queryId)
            return a.queryId < b.queryId;
        return a.score != b.score ? a.score > b.score : a.candidateId < b.candidateId;
    });
    std::vector<ScoreEntry> entries;
    entries.reserve(items.size());
    int rank = 0;
    for (std::size_t i = 0; i < items.size(); ++i) {
        rank = i > 0 && items[i].queryId == items[i - 1].queryId ? rank + 1 : 1;
        entries.push_back({items[i].queryId, items[i].candidateId, items[i].score, rank});
    }
    Transaction tx(db);
    const auto run = insertScoreRun(db, modelVersionId, collectionId, params);
    insertScores(db, run, entries);
    tx.commit();
    return run;
}

} // namespace unirank::storage
