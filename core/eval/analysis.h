// SPDX-License-Identifier: GPL-3.0-or-later
// Hybrid-specific and human-judgement analyses of a run:
// - modality split: every metric on the run and qrels restricted to one candidate modality;
// - modality bias: the share of images in the top k against the share of images among the relevant
//   candidates (per query, then the mean); a positive bias favours images, negative favours text;
// - preference agreement: of the human pairwise preferences (left or right preferred), the fraction the
//   run orders the same way; human ties and "both irrelevant" are excluded, as are pairs the run ties or
//   does not contain (counted separately);
// - inter-annotator agreement: Krippendorff's alpha (nominal) over pairs judged by several annotators.
// Pure functions, thread-safe.
#pragma once

#include "core/eval/metrics.h"

#include <optional>

namespace unirank::eval {

using Modalities = std::map<std::string, Modality>; ///< doc id -> modality

std::map<Modality, RunEvaluation> evaluateByModality(const Qrels &qrels, const Run &run, const Modalities &modalities,
                                                     const EvalOptions &options = {});

struct ModalityBias {
    long k = 10;
    double imageShareTopK = 0;     ///< mean over queries
    double imageShareRelevant = 0; ///< mean over queries with a relevant candidate
    double bias = 0;               ///< imageShareTopK - imageShareRelevant, over the same queries
    std::size_t queries = 0;
};

/// Images are candidates whose modality is Image or TextImage.
ModalityBias modalityBias(const Qrels &qrels, const Run &run, const Modalities &modalities, long k = 10,
                          int relevanceLevel = 1);

struct PairJudgement {
    std::string queryId;
    std::string left, right;
    PairOutcome outcome = PairOutcome::Tie;
    std::string annotator;
};

struct PreferenceAgreement {
    std::size_t agreed = 0, disagreed = 0;
    std::size_t excludedTies = 0;    ///< human ties and both-irrelevant
    std::size_t runTies = 0;         ///< the run gives both the same score
    std::size_t notInRun = 0;        ///< a document of the pair is not in the run
    std::map<std::string, double> perQuery; ///< fraction agreed per query (queries with a decided pair)
    double overall() const { return agreed + disagreed ? static_cast<double>(agreed) / static_cast<double>(agreed + disagreed) : 0; }
};

PreferenceAgreement preferenceAgreement(const std::vector<PairJudgement> &pairs, const Run &run);

/// Krippendorff's alpha for nominal data over (query, unordered pair) units with at least two
/// annotators; outcomes are oriented to a canonical (smaller id first) order. nullopt when no unit has
/// two judgements or every judgement is the same value.
struct AnnotatorAgreement {
    std::optional<double> alpha;
    std::size_t units = 0;    ///< pairs with >= 2 judgements
    std::size_t judgements = 0;
};
AnnotatorAgreement krippendorffAlpha(const std::vector<PairJudgement> &pairs);

/// Reads trec_eval's prefs format (`qid jg jsg docno rel_level`): within each (qid, jg, jsg), every two
/// documents form a pair; higher rel_level is preferred, equal is a tie (both 0: both irrelevant). The
/// judgement group is taken as the annotator. Errors name the file and line.
std::vector<PairJudgement> readTrecPrefs(const std::filesystem::path &path);

} // namespace unirank::eval
