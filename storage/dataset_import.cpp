// SPDX-License-Identifier: GPL-3.0-or-later
#include "storage/dataset_import.h"

#include "core/formats/beir.h"
#include "storage/errors.h"
#include "storage/repo/audit.h"
#include "storage/repo/catalog.h"
#include "storage/repo/judgements.h"

#include <chrono>
#include <unordered_map>

namespace fs = std::filesystem;

namespace unirank::storage {
namespace {

using Clock = std::chrono::steady_clock;

double secondsSince(Clock::time_point t) { return std::chrono::duration<double>(Clock::now() - t).count(); }

std::string defaultCollectionName(const fs::path &dir)
{
    const auto abs = fs::absolute(dir).lexically_normal();
    auto name = abs.filename().empty() ? abs.parent_path().filename() : abs.filename();
    auto parent = abs.filename().empty() ? abs.parent_path().parent_path() : abs.parent_path();
    return parent.filename().empty() ? name.string() : parent.filename().string() + "/" + name.string();
}

} // namespace

Result<ImportSummary> importDataset(Project &project, const fs::path &dir, const ImportOptions &options)
{
    return capture([&] {
        ImportSummary summary;
        auto t0 = Clock::now();
        BeirReadOptions readOptions;
        if (options.onProgress)
            readOptions.onImageProgress = [&](std::size_t done, std::size_t total) {
                options.onProgress("images", done, total);
            };
        const BeirDataset data = readBeirFolder(dir, readOptions);
        summary.readSeconds = secondsSince(t0);

        t0 = Clock::now();
        Database &db = project.db();
        summary.collectionName = options.collectionName.empty() ? defaultCollectionName(dir) : options.collectionName;
        if (findCollection(db, summary.collectionName))
            throw InputError(SourceLocation{"", 0, "collection"},
                             "a collection named '" + summary.collectionName +
                                 "' already exists in this project; import under another name");

        NewMediaFiles created(project.media());
        Transaction tx(db);
        const auto split = fs::absolute(dir).lexically_normal().filename().string();
        summary.collectionId = insertCollection(db, summary.collectionName, split, fs::absolute(dir).string());

        std::unordered_map<std::string, std::string> hashByPath;
        for (const auto &[rel, img] : data.images) {
            MediaRow media{img.sha256, MediaStore::relativePathFor(img.sha256, img.info.format), img.info, img.bytes};
            insertMedia(db, media);
            if (project.media().putFile(img.absolutePath, media.relPath))
                created.add(media.relPath);
            hashByPath.emplace(rel, img.sha256);
        }
        if (created.count() > 0)
            project.media().syncAll(); // the files are durable before any row that names them commits
        const auto hashOf = [&](const std::string &rel) -> std::optional<std::string> {
            if (rel.empty())
                return std::nullopt;
            return hashByPath.at(rel);
        };

        std::unordered_map<std::string, std::int64_t> queryIds, candidateIds;
        for (const auto &q : data.queries)
            queryIds.emplace(q.id, insertQuery(db, summary.collectionId, q, hashOf(q.imagePath)));
        const std::size_t total = data.candidates.size();
        constexpr std::size_t kProgressStep = 4096;
        for (std::size_t first = 0; first < total; first += kProgressStep) {
            const auto end = std::min(total, first + kProgressStep);
            const std::vector<Candidate> part(data.candidates.begin() + first, data.candidates.begin() + end);
            std::vector<std::optional<std::string>> hashes;
            for (const auto &c : part)
                hashes.push_back(hashOf(c.imagePath));
            const auto ids = insertCandidates(db, summary.collectionId, part, hashes);
            for (std::size_t i = 0; i < part.size(); ++i)
                candidateIds.emplace(part[i].id, ids[i]);
            if (options.onProgress)
                options.onProgress("write", end, total);
        }

        const auto importer = ensureAnnotator(db, "qrels");
        for (const auto &q : data.qrels)
            insertGradedLabel(db, queryIds.at(q.queryId), candidateIds.at(q.docId), q.grade, importer,
                              GradedSource::Imported);
        if (data.run) {
            const auto runId = insertFirstStageRun(db, summary.collectionId, data.runTag);
            std::vector<ListEntryRow> entries;
            entries.reserve(data.run->size());
            for (const auto &e : *data.run)
                entries.push_back({queryIds.at(e.queryId), candidateIds.at(e.docId), e.rank, e.score});
            insertListEntries(db, runId, entries);
            summary.runEntries = data.run->size();
        }
        summary.queries = data.queries.size();
        summary.candidates = data.candidates.size();
        summary.images = data.images.size();
        summary.qrels = data.qrels.size();
        summary.newMediaFiles = created.count();
        appendAudit(db, options.actor, "import", "collections", summary.collectionId,
                    {{"source", fs::absolute(dir).string()},
                     {"queries", summary.queries},
                     {"candidates", summary.candidates},
                     {"qrels", summary.qrels},
                     {"run_entries", summary.runEntries}});
        tx.commit();
        created.keep();
        summary.writeSeconds = secondsSince(t0);
        return summary;
    });
}

} // namespace unirank::storage
