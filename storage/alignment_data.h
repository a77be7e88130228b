// SPDX-License-Identifier: GPL-3.0-or-later
// Alignment data from a project collection: per query of the first-stage list, the candidates (capped:
// those annotators compared first, then graded ones, then the rest, each in the first stage's order;
// grades attached) and the preference set's human and
// grade-derived pairs (core/data/preference_set; mined pairs come later, from the model's own scores).
//
// Threading: the caller's thread and connection. Errors: InputError when the collection has no
// first-stage list or no preference of any kind.
#pragma once

#include "core/data/preference_set.h"
#include "storage/project.h"

#include <nlohmann/json.hpp>

namespace unirank::storage {

struct AlignmentDataOptions {
    int relevanceThreshold = 1;
    bool useHuman = true;
    bool useDerived = true;
    std::size_t derivedPerQuery = 16;       ///< 0: no cap
    std::size_t maxCandidatesPerQuery = 16; ///< 0: no cap
};

struct AlignmentData {
    std::vector<AlignGroup> groups;
    PreferenceCounts counts;
    nlohmann::json stats() const;
};

AlignmentData buildAlignmentData(Project &project, std::int64_t collectionId, const AlignmentDataOptions &options);

struct AlignmentSplit {
    std::vector<AlignGroup> train, validation;
};

/// Splits by query as instruction tuning does (the same share and seed hold out the same queries).
/// Held-out queries then get every grade-derived pair, not only the capped share training uses, so
/// their pair accuracy measures the whole graded order (the number instruction tuning reports too).
AlignmentSplit splitAlignmentData(AlignmentData data, double validationShare, std::uint64_t seed);

} // namespace unirank::storage
