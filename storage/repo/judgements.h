// SPDX-License-Identifier: GPL-3.0-or-later
// Annotators, graded labels (0-3) and pairwise preferences. Labels are append-only: a newer label for
// the same pair supersedes an older one, and undo marks a label retracted (retracted_at) instead of
// deleting it, so the history stays auditable and redo is exact.
// Free functions over a Database; the caller owns transactions.
#pragma once

#include "core/data/types.h"
#include "storage/db/database.h"

#include <optional>
#include <string>
#include <vector>

namespace unirank::storage {

struct AnnotatorRow {
    std::int64_t id = 0;
    std::string name;
    std::string createdAt;
};

/// Returns the annotator's id, creating it on first use. Names are 1-64 bytes without whitespace
/// (they become trec_eval judgement-group names); throws InputError otherwise.
std::int64_t ensureAnnotator(Database &db, const std::string &name);
std::vector<AnnotatorRow> listAnnotators(Database &db);

enum class GradedSource { Human, Imported };

struct GradedLabelRow {
    std::int64_t id = 0;
    std::int64_t queryId = 0;
    std::int64_t candidateId = 0;
    int grade = 0;
    std::int64_t annotatorId = 0;
    GradedSource source = GradedSource::Human;
    std::string createdAt;
    std::optional<std::string> retractedAt;
};

std::int64_t insertGradedLabel(Database &db, std::int64_t queryId, std::int64_t candidateId, int grade,
                               std::int64_t annotatorId, GradedSource source);
/// Retracts (undo) or restores (redo) a label. Returns false if no such label.
bool setGradedLabelRetracted(Database &db, std::int64_t labelId, bool retracted);
std::optional<GradedLabelRow> findGradedLabel(Database &db, std::int64_t labelId);

/// The collection's qrels: for each judged (query, candidate), the newest label that is not retracted.
/// Ordered by first judgement, so imported qrels come back in file order.
std::vector<QrelEntry> currentQrels(Database &db, std::int64_t collectionId);

struct PairLabelInput {
    std::int64_t queryId = 0;
    std::int64_t leftId = 0;  ///< candidate shown on the left
    std::int64_t rightId = 0; ///< candidate shown on the right
    PairOutcome outcome = PairOutcome::Tie;
    std::optional<std::int64_t> annotatorId; ///< required for human labels
    PairSource source = PairSource::Human;
    bool shownSwapped = false; ///< true when the queue's first item was displayed on the right
    std::string reason;        ///< why the pair was chosen (hard negative, uncertain, ...)
};

struct PairLabelRow {
    std::int64_t id = 0;
    PairLabelInput input;
    std::string createdAt;
    std::optional<std::string> retractedAt;
};

std::int64_t insertPairLabel(Database &db, const PairLabelInput &label);
bool setPairLabelRetracted(Database &db, std::int64_t labelId, bool retracted);
std::optional<PairLabelRow> findPairLabel(Database &db, std::int64_t labelId);

/// The collection's preferences with external ids: per (annotator or source, query, unordered pair) the
/// newest label that is not retracted, oldest first.
std::vector<PairPreference> currentPreferences(Database &db, std::int64_t collectionId);

} // namespace unirank::storage
