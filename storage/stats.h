// SPDX-License-Identifier: GPL-3.0-or-later
// What a project holds, in numbers (the `stats` command and the GUI's project summary).
#pragma once

#include "core/util/error.h"
#include "storage/db/database.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace unirank::storage {

struct CollectionStats {
    std::string name;
    std::string split;
    std::int64_t queries = 0;
    std::int64_t candidates = 0;
    std::int64_t textCandidates = 0;
    std::int64_t imageCandidates = 0;
    std::int64_t textImageCandidates = 0;
    std::int64_t listEntries = 0;  ///< first-stage list lines
    std::int64_t gradedLabels = 0; ///< current (newest, not retracted) graded judgements
    std::int64_t pairLabels = 0;   ///< pairwise labels, not retracted
};

struct ProjectStats {
    int schemaVersion = 0;
    std::vector<CollectionStats> collections;
    std::int64_t mediaFiles = 0;
    std::int64_t mediaBytes = 0;
    std::int64_t annotators = 0;
    std::int64_t humanGradedLabels = 0;
    std::int64_t humanPairLabels = 0;
    std::int64_t modelVersions = 0;
    std::int64_t scoreRuns = 0;
    std::int64_t trainingRuns = 0;
    std::int64_t auditEntries = 0;

    nlohmann::ordered_json toJson() const;
    std::string toText() const; ///< a readable table
};

Result<ProjectStats> projectStats(Database &db);

} // namespace unirank::storage
