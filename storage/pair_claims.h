// SPDX-License-Identifier: GPL-3.0-or-later
// Pair claims: the Label tab's queue serves a pair to one analyst at a time, across processes and
// workstations. Before a pair is shown, the annotator claims it (a row of pair_claims, unique among the
// open claims of the pair unless it is an agreement overlap); the label write closes the claim
// (LabelWriter::addPair), and a claim left by a crashed client expires after its lease.
//
//   switch (claimPair(db, {query, a, b, "ann", false}).value()) {
//   case ClaimOutcome::Claimed: show it; ...
//   case ClaimOutcome::Taken:   another analyst has it on screen: take the next pair
//   case ClaimOutcome::Judged:  another analyst labelled it meanwhile: take the next pair
//   }
//
// The claim and its checks run in one transaction. On the server the INSERT waits for a concurrent
// claimer of the same pair and the check for labels runs after it, so a pair labelled in the meantime
// is seen; on SQLite the transaction holds the write lock. Times are the client's UTC clock.
//
// Threading: the caller's connection, the caller's thread. Errors: Result (Busy: locked / unreachable).
#pragma once

#include "core/util/error.h"
#include "storage/db/database.h"

#include <chrono>
#include <cstdint>
#include <string>

namespace unirank::storage {

struct PairClaimRequest {
    std::int64_t queryId = 0;
    std::int64_t a = 0, b = 0; ///< the two candidates, either order
    std::string annotator;
    bool overlap = false; ///< an agreement overlap: may be on another analyst's screen, or judged already
    std::chrono::seconds lease{600};
};

enum class ClaimOutcome { Claimed, Taken, Judged };

Result<ClaimOutcome> claimPair(Database &db, const PairClaimRequest &request);

/// Closes the annotator's open claim on the pair (the label write calls it in its transaction).
void closePairClaim(Database &db, std::int64_t queryId, std::int64_t a, std::int64_t b, std::int64_t annotatorId);

/// Releases the annotator's open claim on one pair (a skipped pair goes back to the team).
Result<int> releasePairClaim(Database &db, std::int64_t queryId, std::int64_t a, std::int64_t b, const std::string &annotator);

/// Releases every open claim of the annotator (leaving the Label tab, closing the project).
Result<int> releasePairClaims(Database &db, const std::string &annotator);

/// UTC now + offset as the schema's timestamp text (2026-11-27T14:32:53.123Z).
std::string utcTimestamp(std::chrono::milliseconds offset = {});

} // namespace unirank::storage
