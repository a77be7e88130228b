// SPDX-License-Identifier: GPL-3.0-or-later
#include "storage/pair_claims.h"

#include "storage/errors.h"
#include "storage/repo/judgements.h"

#include <algorithm>
#include <ctime>

namespace unirank::storage {

std::string utcTimestamp(std::chrono::milliseconds offset)
{
    const auto t = std::chrono::system_clock::now() + offset;
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(t.time_since_epoch()).count();
    const std::time_t seconds = static_cast<std::time_t>(ms / 1000);
    std::tm tm{};
    gmtime_r(&seconds, &tm);
    char buffer[40];
    std::snprintf(buffer, sizeof buffer, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900, tm.tm_mon + 1,
                  tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, static_cast<int>(ms % 1000));
    return buffer;
}

Result<ClaimOutcome> claimPair(Database &db, const PairClaimRequest &r)
{
    return capture([&] {
        if (r.a == r.b)
            throw InputError(SourceLocation{"", 0, "pair"}, "a pair needs two different candidates");
        const auto low = std::min(r.a, r.b), high = std::max(r.a, r.b);
        const auto now = utcTimestamp();
        Transaction tx(db);
        const auto annotator = ensureAnnotator(db, r.annotator);
        db.cached("UPDATE pair_claims SET closed_at = ?1 WHERE closed_at IS NULL AND expires_at < ?1").bind(1, now).run();
        const bool mine = db.cached("SELECT count(*) FROM pair_claims WHERE query_id = ?1 AND low_id = ?2 AND high_id = ?3 "
                                    "AND annotator_id = ?4 AND closed_at IS NULL")
                              .bindAll(r.queryId, low, high, annotator)
                              .first([](const Statement &s) { return s.columnInt(0); })
                              .value_or(0) > 0;
        if (mine) {
            tx.commit();
            return ClaimOutcome::Claimed; // already on this annotator's screen (a reopened tab)
        }
        const auto claimed = db.cached("INSERT INTO pair_claims (query_id, low_id, high_id, annotator_id, overlap, "
                                       "claimed_at, expires_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7) "
                                       "ON CONFLICT DO NOTHING RETURNING id")
                                 .bindAll(r.queryId, low, high, annotator, r.overlap ? 1 : 0, now,
                                          utcTimestamp(std::chrono::duration_cast<std::chrono::milliseconds>(r.lease)))
                                 .first([](const Statement &s) { return s.columnInt(0); });
        if (!claimed) {
            tx.commit(); // keeps the expiries
            return ClaimOutcome::Taken;
        }
        if (!r.overlap) {
            // After the INSERT: on the server it waited for a concurrent claimer, whose label is now visible.
            const auto judged = db.cached("SELECT count(*) FROM pair_labels WHERE query_id = ?1 AND source = 'human' "
                                          "AND retracted_at IS NULL AND annotator_id <> ?4 AND "
                                          "((left_id = ?2 AND right_id = ?3) OR (left_id = ?3 AND right_id = ?2))")
                                    .bindAll(r.queryId, low, high, annotator)
                                    .first([](const Statement &s) { return s.columnInt(0); })
                                    .value_or(0);
            if (judged > 0)
                return ClaimOutcome::Judged; // the transaction rolls back: no claim is left
        }
        tx.commit();
        return ClaimOutcome::Claimed;
    });
}

void closePairClaim(Database &db, std::int64_t queryId, std::int64_t a, std::int64_t b, std::int64_t annotatorId)
{
    db.cached("UPDATE pair_claims SET closed_at = ?5 WHERE query_id = ?1 AND low_id = ?2 AND high_id = ?3 "
              "AND annotator_id = ?4 AND closed_at IS NULL")
        .bindAll(queryId, std::min(a, b), std::max(a, b), annotatorId, utcTimestamp())
        .run();
}

Result<int> releasePairClaim(Database &db, std::int64_t queryId, std::int64_t a, std::int64_t b, const std::string &annotator)
{
    return capture([&] {
        db.cached("UPDATE pair_claims SET closed_at = ?5 WHERE query_id = ?1 AND low_id = ?2 AND high_id = ?3 AND "
                  "closed_at IS NULL AND annotator_id = (SELECT id FROM annotators WHERE name = ?4)")
            .bindAll(queryId, std::min(a, b), std::max(a, b), annotator, utcTimestamp())
            .run();
        return db.changes();
    });
}

Result<int> releasePairClaims(Database &db, const std::string &annotator)
{
    return capture([&] {
        db.cached("UPDATE pair_claims SET closed_at = ?2 WHERE closed_at IS NULL AND "
                  "annotator_id = (SELECT id FROM annotators WHERE name = ?1)")
            .bindAll(annotator, utcTimestamp())
            .run();
        return db.changes();
    });
}

} // namespace unirank::storage
