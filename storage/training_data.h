// SPDX-License-Identifier: GPL-3.0-or-later
// Instruction-tuning data from a project collection, one group per query of the first-stage list:
// - graded labels: grade >= relevanceThreshold is "yes", below is "no";
// - pairwise preferences (human, current): for a candidate without a graded label, the preferred side
//   becomes "yes" and the other "no" (both "no" for "both irrelevant"; ties teach nothing), unless that
//   contradicts the graded label of the other side (a "yes" over a relevant one is fine, a "yes" for
//   the side preferred over an irrelevant one is not evidence and is skipped); a candidate that
//   preferences call both ways is dropped;
// - optionally the remaining first-stage candidates as "no" (unjudged negatives).
// Balancing and the split by query are core/data/training_examples' (the trainer applies them).
//
// Threading: the caller's thread and connection. Errors: InputError when the collection has no
// first-stage list or no positive at all.
#pragma once

#include "core/data/training_examples.h"
#include "storage/project.h"

#include <nlohmann/json.hpp>

namespace unirank::storage {

struct TrainingDataOptions {
    int relevanceThreshold = 1;
    bool usePreferences = true;
    bool firstStageNegatives = true;
};

struct TrainingData {
    std::vector<TrainGroup> groups;
    nlohmann::json stats; ///< counts by source and label, dropped conflicts
};

TrainingData buildTrainingData(Project &project, std::int64_t collectionId, const TrainingDataOptions &options);

} // namespace unirank::storage
