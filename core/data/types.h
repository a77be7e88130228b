// SPDX-License-Identifier: GPL-3.0-or-later
// Plain data shared by every layer: queries, candidates, judgements, ranked lists.
// No behaviour beyond string conversions; ids are the dataset's own (external) ids.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace unirank {

enum class Modality { Text, Image, TextImage };

std::string_view toString(Modality m);
std::optional<Modality> modalityFromString(std::string_view s); ///< "text", "image", "text+image"

/// A query: text, optionally with an image (relative path inside its dataset folder).
struct Query {
    std::string id;
    std::string text;
    std::string imagePath;         ///< empty when the query has no image
    nlohmann::json metadata = nlohmann::json::object(); ///< fields we do not interpret, kept for export
};

/// A candidate is text, an image, or both; it is never converted into the other modality here.
struct Candidate {
    std::string id;
    Modality modality = Modality::Text;
    std::string title;
    std::string text;
    std::string imagePath;         ///< relative to the dataset folder; empty for text candidates
    nlohmann::json metadata = nlohmann::json::object();
};

/// One graded relevance judgement (TREC qrels line).
struct QrelEntry {
    std::string queryId;
    std::string docId;
    int grade = 0;
    std::int64_t line = 0; ///< source line when read from a file, else 0
};

/// One line of a TREC run.
struct RunEntry {
    std::string queryId;
    std::string docId;
    int rank = 0;
    double score = 0.0;
    std::string tag;
    std::int64_t line = 0; ///< source line when read from a file, else 0
};

enum class PairOutcome { Left, Right, Tie, BothIrrelevant };
enum class PairSource { Human, Derived, Mined };

std::string_view toString(PairOutcome o);
std::optional<PairOutcome> pairOutcomeFromString(std::string_view s); ///< left|right|tie|both-irrelevant
std::string_view toString(PairSource s);
std::optional<PairSource> pairSourceFromString(std::string_view s);   ///< human|derived|mined

/// A pairwise preference as exported: who preferred what for which query.
struct PairPreference {
    std::int64_t id = 0;
    std::string queryId;
    std::string leftId;
    std::string rightId;
    PairOutcome outcome = PairOutcome::Tie;
    std::string annotator;
    PairSource source = PairSource::Human;
};

} // namespace unirank
