// SPDX-License-Identifier: GPL-3.0-or-later
// The queue of candidate pairs shown to annotators in the Label tab. Pairs are drawn from four pools:
// - hard negatives: a candidate judged non-relevant (grade < relevanceThreshold) that the model ranks
//   above a known relevant one, paired with that one; with unjudgedAsNegative, unjudged candidates
//   ranked above a relevant one too (the rule alignment's mining uses, core/data/preference_set.h);
// - uncertain: neighbours in the model's order whose scores are closest;
// - disagreements: pairs that two model versions order differently;
// - random: any pair of the query's list.
// A weighted, seeded draw picks the pool; the same (unordered) pair is never served twice to one
// annotator; a share of pairs already judged by someone else is served again for agreement; the sides
// are randomised and the order shown is reported (stored with the label).
//
// Threading: not thread-safe; one queue per labelling session (GUI thread). No I/O.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <string>
#include <vector>

namespace unirank::labeling {

struct QueueCandidate {
    std::string id;
    double score = 0;                  ///< active model version
    std::optional<double> otherScore;  ///< a second version, for disagreements
    int grade = -1;                    ///< known graded label, -1 when none
};

struct QueueQuery {
    std::string id;
    std::vector<QueueCandidate> candidates;
};

enum class PairReason { HardNegative, Uncertain, Disagreement, Random, Agreement };
const char *toString(PairReason reason);

struct QueuedPair {
    std::string queryId;
    std::string left, right; ///< as displayed
    bool shownSwapped = false; ///< true when the pool's first item is displayed on the right
    PairReason reason = PairReason::Random;
};

struct PairQueueOptions {
    double hardNegativeWeight = 0.4, uncertainWeight = 0.3, disagreementWeight = 0.2, randomWeight = 0.1;
    double agreementShare = 0.1; ///< probability of re-serving a pair another annotator judged
    int relevanceThreshold = 1;
    bool unjudgedAsNegative = false; ///< an unjudged candidate above a relevant one is a hard negative
    std::uint64_t seed = 1;
};

class PairQueue {
public:
    PairQueue(std::vector<QueueQuery> queries, PairQueueOptions options = {});

    /// Records a judged pair (from the project at start, and after every label).
    void markJudged(const std::string &annotator, const std::string &queryId, const std::string &a, const std::string &b);
    /// The next pair for `annotator`, or nullopt when every pair of every pool was judged by them.
    std::optional<QueuedPair> next(const std::string &annotator);

    std::size_t poolSize(PairReason reason) const;
    std::size_t judgedBy(const std::string &annotator) const;

private:
    struct Pair {
        std::string queryId, a, b;
    };
    using Key = std::tuple<std::string, std::string, std::string>;
    static Key keyOf(const std::string &q, const std::string &a, const std::string &b);
    std::optional<QueuedPair> serve(const std::string &annotator, PairReason reason);

    PairQueueOptions m_options;
    std::map<PairReason, std::vector<Pair>> m_pools;
    std::map<std::string, std::set<Key>> m_judged; ///< by annotator
    std::map<Key, std::set<std::string>> m_judges;  ///< who judged each pair
    std::mt19937_64 m_rng;
};

} // namespace unirank::labeling
