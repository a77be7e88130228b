// SPDX-License-Identifier: GPL-3.0-or-later
#include "storage/dataset_export.h"

#include "core/formats/beir.h"
#include "core/formats/trec.h"
#include "core/formats/trl.h"
#include "core/util/atomic_file.h"
#include "storage/errors.h"
#include "storage/repo/audit.h"
#include "storage/repo/catalog.h"
#include "storage/repo/judgements.h"
#include "storage/repo/models.h"

#include <unordered_map>

namespace fs = std::filesystem;

namespace unirank::storage {
namespace {

void audit(Project &project, const std::string &what, const fs::path &target, std::size_t count)
{
    appendAudit(project.db(), "cli", "export", "", std::nullopt,
                {{"format", what}, {"path", fs::absolute(target).string()}, {"count", count}});
}

std::string candidateText(const Candidate &c)
{
    if (c.title.empty())
        return c.text;
    if (c.text.empty())
        return c.title;
    return c.title + "\n" + c.text;
}

} // namespace

std::int64_t resolveCollection(Database &db, const std::string &collection)
{
    if (!collection.empty()) {
        if (const auto row = findCollection(db, collection))
            return row->id;
        throw InputError(SourceLocation{"", 0, "collection"}, "no collection named '" + collection + "'");
    }
    const auto all = listCollections(db);
    if (all.empty())
        throw InputError(SourceLocation{"", 0, "collection"}, "the project has no collections; import a dataset first");
    if (all.size() > 1) {
        std::string names;
        for (const auto &c : all)
            names += (names.empty() ? "" : ", ") + c.name;
        throw InputError(SourceLocation{"", 0, "collection"}, "the project has several collections (" + names +
                                                                  "); name one with --collection");
    }
    return all.front().id;
}

Result<std::size_t> exportQrels(Project &project, const fs::path &file, const std::string &collection)
{
    return capture([&] {
        const auto qrels = currentQrels(project.db(), resolveCollection(project.db(), collection));
        writeTrecQrels(file, qrels);
        audit(project, "qrels", file, qrels.size());
        return qrels.size();
    });
}

Result<std::size_t> exportRun(Project &project, const fs::path &file, const std::string &modelVersion,
                              const std::string &collection)
{
    return capture([&] {
        Database &db = project.db();
        const auto collectionId = resolveCollection(db, collection);
        std::vector<RunEntry> entries;
        std::string tag = modelVersion;
        if (const auto model = findModelVersion(db, modelVersion)) {
            const auto run = latestScoreRun(db, model->id, collectionId);
            if (!run)
                throw InputError(SourceLocation{"", 0, "model-version"},
                                 "model version '" + modelVersion + "' has not scored this collection yet");
            entries = scoreRunEntries(db, *run);
        } else {
            const auto runs = listFirstStageRuns(db, collectionId);
            const auto it = std::find_if(runs.begin(), runs.end(), [&](const FirstStageRunRow &r) {
                return modelVersion == "first-stage" || r.tag == modelVersion;
            });
            if (it == runs.end())
                throw InputError(SourceLocation{"", 0, "model-version"},
                                 "no model version or first-stage run named '" + modelVersion + "'");
            entries = firstStageEntries(db, it->id);
            tag = it->tag;
        }
        writeRun(file, entries, tag);
        audit(project, "run", file, entries.size());
        return entries.size();
    });
}

Result<std::size_t> exportPrefs(Project &project, const fs::path &file, const std::string &collection)
{
    return capture([&] {
        const auto prefs = currentPreferences(project.db(), resolveCollection(project.db(), collection));
        const auto n = writeTrecPrefs(file, prefs);
        audit(project, "prefs", file, n);
        return n;
    });
}

Result<std::size_t> exportTrl(Project &project, const fs::path &file, const std::string &collection)
{
    return capture([&] {
        Database &db = project.db();
        const auto collectionId = resolveCollection(db, collection);
        std::unordered_map<std::string, QueryRow> queries;
        for (auto &q : listQueries(db, collectionId))
            queries.emplace(q.query.id, std::move(q));
        std::unordered_map<std::string, CandidateRow> candidates;
        for (auto &c : listCandidates(db, collectionId))
            candidates.emplace(c.candidate.id, std::move(c));
        const auto imagePath = [&](const std::optional<std::string> &hash) -> std::string {
            if (!hash)
                return {};
            const auto media = findMedia(db, *hash);
            return media ? fs::absolute(project.media().absolutePath(media->relPath)).string() : std::string();
        };
        std::vector<TrlPair> pairs;
        for (const auto &p : currentPreferences(db, collectionId)) {
            if (p.outcome != PairOutcome::Left && p.outcome != PairOutcome::Right)
                continue;
            const auto &q = queries.at(p.queryId);
            const auto &chosen = candidates.at(p.outcome == PairOutcome::Left ? p.leftId : p.rightId);
            const auto &rejected = candidates.at(p.outcome == PairOutcome::Left ? p.rightId : p.leftId);
            pairs.push_back(TrlPair{q.query.text, imagePath(q.imageHash), candidateText(chosen.candidate),
                                    imagePath(chosen.imageHash), candidateText(rejected.candidate),
                                    imagePath(rejected.imageHash), p.queryId, chosen.candidate.id,
                                    rejected.candidate.id, std::string(toString(p.source)), p.annotator});
        }
        writeTrlJsonl(file, pairs);
        audit(project, "trl", file, pairs.size());
        return pairs.size();
    });
}

Result<std::size_t> exportDataset(Project &project, const fs::path &dir, const std::string &collection)
{
    return capture([&] {
        Database &db = project.db();
        const auto collectionId = resolveCollection(db, collection);
        BeirDataset data;
        std::unordered_map<std::string, std::string> hashByPath;
        for (auto &q : listQueries(db, collectionId)) {
            if (q.imageHash)
                hashByPath[q.query.imagePath] = *q.imageHash;
            data.queries.push_back(std::move(q.query));
        }
        for (auto &c : listCandidates(db, collectionId)) {
            if (c.imageHash)
                hashByPath[c.candidate.imagePath] = *c.imageHash;
            data.candidates.push_back(std::move(c.candidate));
        }
        data.qrels = currentQrels(db, collectionId);
        if (const auto runs = listFirstStageRuns(db, collectionId); !runs.empty()) {
            data.run = firstStageEntries(db, runs.front().id);
            data.runTag = runs.front().tag;
        }
        writeBeirFolder(dir, data, [&](const std::string &rel, const fs::path &dest) {
            const auto media = findMedia(db, hashByPath.at(rel));
            if (!media)
                throw std::runtime_error("media row missing for image '" + rel + "'");
            writeFileAtomically(dest, readWholeFile(project.media().absolutePath(media->relPath)), AtomicFile::Sync::Deferred);
        });
        audit(project, "dataset", dir, data.candidates.size());
        return data.candidates.size();
    });
}

} // namespace unirank::storage
