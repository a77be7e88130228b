// SPDX-License-Identifier: GPL-3.0-or-later
// The preference set of an alignment round, per query (torch-free, so storage can build it):
// - human: annotators' pairwise labels, newest per annotator and pair; ties and "both irrelevant"
//   carry no preference and are excluded. Conflicts between annotators are resolved by majority of
//   their votes on the pair; a pair with as many votes each way is dropped (counted as a conflict);
// - derived: from graded labels, every pair with different grades (higher grade preferred), widest
//   grade gaps first, capped per query;
// - mined: hard negatives under the current model: a candidate ranked above a known relevant one but
//   judged non-relevant (grade < threshold), or unjudged when the rule says unjudged counts as
//   non-relevant, paired with that relevant one; capped per query, highest-ranked negatives first.
// Precedence when sources meet on the same pair: human > derived > mined; a later source's pair that
// repeats or contradicts an earlier one is dropped (and counted).
//
// Pure functions, thread-safe; deterministic.
#pragma once

#include "core/data/training_examples.h"
#include "core/formats/trl.h"

#include <map>
#include <string>
#include <vector>

namespace unirank {

enum class PreferenceSource { Human, Derived, Mined };
const char *toString(PreferenceSource source);

struct PreferencePair {
    std::size_t better = 0, worse = 0; ///< indices into the group's items
    PreferenceSource source = PreferenceSource::Human;
    std::string reason; ///< why the pair exists (votes, grades, ranks)
};

/// A query's candidate list (items carry their grades; label = grade >= threshold) and its pairs.
struct AlignGroup {
    TrainGroup group;
    std::vector<PreferencePair> pairs;
};

/// One annotator's current vote: `better` preferred over `worse` (candidate ids).
struct HumanVote {
    std::string better, worse, annotator;
};

struct PreferenceCounts {
    std::map<std::string, std::size_t> added;   ///< by source
    std::size_t annotatorConflicts = 0;         ///< pairs with a tied vote, dropped
    std::size_t overridden = 0;                 ///< pairs dropped for repeating or contradicting a stronger source
    std::size_t unknownCandidates = 0;          ///< votes on candidates outside the list
};

/// Adds the majority preference of each voted pair as a human pair.
void addHumanPairs(AlignGroup &group, const std::vector<HumanVote> &votes, PreferenceCounts &counts);
/// Adds up to `cap` pairs derived from graded labels (0: no cap).
void addDerivedPairs(AlignGroup &group, std::size_t cap, PreferenceCounts &counts);

enum class UnjudgedRule { Skip, Negative };
/// Adds up to `cap` mined pairs from `scores` (one per item, higher = ranked higher).
void addMinedPairs(AlignGroup &group, const std::vector<double> &scores, int relevanceThreshold, UnjudgedRule rule,
                   std::size_t cap, PreferenceCounts &counts);

/// The group's pairs as TRL preference records (prompt = query, chosen = better, rejected = worse).
std::vector<TrlPair> toTrlPairs(const AlignGroup &group);

} // namespace unirank
