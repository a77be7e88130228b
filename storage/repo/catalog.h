// SPDX-License-Identifier: GPL-3.0-or-later
// Collections (an imported dataset split), media, queries, candidates and first-stage candidate lists.
// Free functions over a Database; the caller owns transactions. Ids are the database's row ids unless
// named ext (the dataset's own id).
#pragma once

#include "core/data/types.h"
#include "core/vision/image_probe.h"
#include "storage/db/database.h"

#include <optional>
#include <string>
#include <vector>

namespace unirank::storage {

struct CollectionRow {
    std::int64_t id = 0;
    std::string name;
    std::string split;
    std::string sourcePath;
    std::string createdAt;
};

struct QueryRow {
    std::int64_t id = 0;
    std::int64_t collectionId = 0;
    Query query;
    std::optional<std::string> imageHash;
};

struct CandidateRow {
    std::int64_t id = 0;
    std::int64_t collectionId = 0;
    Candidate candidate;
    std::optional<std::string> imageHash;
};

struct MediaRow {
    std::string hash;
    std::string relPath; ///< inside the project's media folder
    ImageInfo info;
    std::uint64_t bytes = 0;
};

struct FirstStageRunRow {
    std::int64_t id = 0;
    std::int64_t collectionId = 0;
    std::string tag;
};

std::int64_t insertCollection(Database &db, const std::string &name, const std::string &split,
                              const std::string &sourcePath);
std::optional<CollectionRow> findCollection(Database &db, const std::string &name);
std::vector<CollectionRow> listCollections(Database &db);

/// Inserts the media row unless the hash is known. Returns true when inserted.
bool insertMedia(Database &db, const MediaRow &media);
std::optional<MediaRow> findMedia(Database &db, const std::string &hash);

std::int64_t insertQuery(Database &db, std::int64_t collectionId, const Query &query,
                         const std::optional<std::string> &imageHash);
std::int64_t insertCandidate(Database &db, std::int64_t collectionId, const Candidate &candidate,
                             const std::optional<std::string> &imageHash);
/// Inserts many candidates with multi-row INSERTs (one round trip per 256 on a server). Returns their
/// ids in the order given. `imageHashes` is parallel to `candidates`.
std::vector<std::int64_t> insertCandidates(Database &db, std::int64_t collectionId, const std::vector<Candidate> &candidates,
                                           const std::vector<std::optional<std::string>> &imageHashes);
std::vector<QueryRow> listQueries(Database &db, std::int64_t collectionId);
std::vector<CandidateRow> listCandidates(Database &db, std::int64_t collectionId);
std::optional<std::int64_t> findQueryId(Database &db, std::int64_t collectionId, const std::string &extId);
std::optional<std::int64_t> findCandidateId(Database &db, std::int64_t collectionId, const std::string &extId);

std::int64_t insertFirstStageRun(Database &db, std::int64_t collectionId, const std::string &tag);
void insertListEntry(Database &db, std::int64_t runId, std::int64_t queryId, std::int64_t candidateId, int rank,
                     double score);
struct ListEntryRow {
    std::int64_t queryId = 0, candidateId = 0;
    int rank = 0;
    double score = 0;
};
/// insertListEntry for many entries, with multi-row INSERTs.
void insertListEntries(Database &db, std::int64_t runId, const std::vector<ListEntryRow> &entries);
std::vector<FirstStageRunRow> listFirstStageRuns(Database &db, std::int64_t collectionId);
/// The run's lines with external ids, ordered by query (import order) then rank.
std::vector<RunEntry> firstStageEntries(Database &db, std::int64_t runId);

// Row readers shared by the repositories.
std::int64_t readId(const Statement &s);          ///< column 0
RunEntry readRunEntry(const Statement &s);        ///< columns: query ext id, doc ext id, rank, score, tag

} // namespace unirank::storage
