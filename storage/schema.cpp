// SPDX-License-Identifier: GPL-3.0-or-later
#include "storage/schema.h"

#include <nlohmann/json.hpp>

namespace unirank::storage {
namespace {

// Timestamps are UTC ISO 8601 with milliseconds, e.g. 2026-11-27T14:32:53.123Z.
constexpr const char *kSchemaV1 = R"sql(
CREATE TABLE collections (
    id          INTEGER PRIMARY KEY,
    name        TEXT NOT NULL UNIQUE,
    split       TEXT NOT NULL DEFAULT '',
    source_path TEXT NOT NULL DEFAULT '',
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);

CREATE TABLE media (
    hash     TEXT PRIMARY KEY CHECK (length(hash) = 64),
    rel_path TEXT NOT NULL,
    format   TEXT NOT NULL,
    width    INTEGER NOT NULL CHECK (width > 0),
    height   INTEGER NOT NULL CHECK (height > 0),
    bytes    INTEGER NOT NULL CHECK (bytes > 0)
) WITHOUT ROWID;

CREATE TABLE queries (
    id            INTEGER PRIMARY KEY,
    collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    ext_id        TEXT NOT NULL,
    text          TEXT NOT NULL DEFAULT '',
    image_hash    TEXT REFERENCES media(hash),
    image_path    TEXT NOT NULL DEFAULT '',
    metadata      TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
    UNIQUE (collection_id, ext_id)
);

CREATE TABLE candidates (
    id            INTEGER PRIMARY KEY,
    collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    ext_id        TEXT NOT NULL,
    modality      TEXT NOT NULL CHECK (modality IN ('text', 'image', 'text+image')),
    title         TEXT NOT NULL DEFAULT '',
    text          TEXT NOT NULL DEFAULT '',
    image_hash    TEXT REFERENCES media(hash),
    image_path    TEXT NOT NULL DEFAULT '',
    metadata      TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
    UNIQUE (collection_id, ext_id),
    CHECK ((modality = 'text') = (image_hash IS NULL))
);
CREATE INDEX candidates_image ON candidates(image_hash);

-- First-stage candidate lists as imported (one row per run.trec line).
CREATE TABLE first_stage_runs (
    id            INTEGER PRIMARY KEY,
    collection_id INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    tag           TEXT NOT NULL,
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);
CREATE TABLE candidate_lists (
    run_id       INTEGER NOT NULL REFERENCES first_stage_runs(id) ON DELETE CASCADE,
    query_id     INTEGER NOT NULL REFERENCES queries(id) ON DELETE CASCADE,
    candidate_id INTEGER NOT NULL REFERENCES candidates(id) ON DELETE CASCADE,
    rank         INTEGER NOT NULL,
    score        REAL NOT NULL,
    PRIMARY KEY (run_id, query_id, candidate_id)
) WITHOUT ROWID;
CREATE INDEX candidate_lists_query ON candidate_lists(query_id, rank);

CREATE TABLE annotators (
    id         INTEGER PRIMARY KEY,
    name       TEXT NOT NULL UNIQUE,
    created_at TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);

-- Graded relevance 0-3. A label is never overwritten: a newer one supersedes it, an undo retracts it.
CREATE TABLE graded_labels (
    id           INTEGER PRIMARY KEY,
    query_id     INTEGER NOT NULL REFERENCES queries(id) ON DELETE CASCADE,
    candidate_id INTEGER NOT NULL REFERENCES candidates(id) ON DELETE CASCADE,
    grade        INTEGER NOT NULL CHECK (grade BETWEEN 0 AND 3),
    annotator_id INTEGER NOT NULL REFERENCES annotators(id),
    source       TEXT NOT NULL CHECK (source IN ('human', 'imported')),
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    retracted_at TEXT
);
CREATE INDEX graded_labels_pair ON graded_labels(query_id, candidate_id);

-- Pairwise preferences. left/right are the two candidates as shown; shown_swapped = 1 when the
-- queue's canonical first item was displayed on the right (randomised sides).
CREATE TABLE pair_labels (
    id            INTEGER PRIMARY KEY,
    query_id      INTEGER NOT NULL REFERENCES queries(id) ON DELETE CASCADE,
    left_id       INTEGER NOT NULL REFERENCES candidates(id) ON DELETE CASCADE,
    right_id      INTEGER NOT NULL REFERENCES candidates(id) ON DELETE CASCADE,
    outcome       TEXT NOT NULL CHECK (outcome IN ('left', 'right', 'tie', 'both-irrelevant')),
    annotator_id  INTEGER REFERENCES annotators(id),
    source        TEXT NOT NULL CHECK (source IN ('human', 'derived', 'mined')),
    shown_swapped INTEGER NOT NULL DEFAULT 0 CHECK (shown_swapped IN (0, 1)),
    reason        TEXT NOT NULL DEFAULT '',
    created_at    TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    retracted_at  TEXT,
    CHECK (left_id <> right_id),
    CHECK (source <> 'human' OR annotator_id IS NOT NULL)
);
CREATE INDEX pair_labels_query ON pair_labels(query_id);

CREATE TABLE model_versions (
    id           INTEGER PRIMARY KEY,
    name         TEXT NOT NULL UNIQUE,
    kind         TEXT NOT NULL CHECK (kind IN ('base', 'adapter', 'merged')),
    path         TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    parent_id    INTEGER REFERENCES model_versions(id),
    metadata     TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(metadata)),
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    CHECK (kind = 'base' OR parent_id IS NOT NULL)
);

CREATE TABLE score_runs (
    id               INTEGER PRIMARY KEY,
    model_version_id INTEGER NOT NULL REFERENCES model_versions(id),
    collection_id    INTEGER NOT NULL REFERENCES collections(id) ON DELETE CASCADE,
    params           TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(params)),
    created_at       TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);
CREATE TABLE scores (
    score_run_id INTEGER NOT NULL REFERENCES score_runs(id) ON DELETE CASCADE,
    query_id     INTEGER NOT NULL REFERENCES queries(id) ON DELETE CASCADE,
    candidate_id INTEGER NOT NULL REFERENCES candidates(id) ON DELETE CASCADE,
    score        REAL NOT NULL,
    rank         INTEGER NOT NULL CHECK (rank >= 1),
    PRIMARY KEY (score_run_id, query_id, candidate_id)
) WITHOUT ROWID;

CREATE TABLE training_runs (
    id                      INTEGER PRIMARY KEY,
    kind                    TEXT NOT NULL CHECK (kind IN ('sft', 'dpo', 'pl-grpo')),
    config                  TEXT NOT NULL CHECK (json_valid(config)),
    status                  TEXT NOT NULL DEFAULT 'pending'
                            CHECK (status IN ('pending', 'running', 'completed', 'failed', 'cancelled')),
    base_model_version_id   INTEGER REFERENCES model_versions(id),
    result_model_version_id INTEGER REFERENCES model_versions(id),
    error                   TEXT NOT NULL DEFAULT '',
    created_at              TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    started_at              TEXT,
    finished_at             TEXT
);
CREATE TABLE training_metrics (
    training_run_id INTEGER NOT NULL REFERENCES training_runs(id) ON DELETE CASCADE,
    step            INTEGER NOT NULL CHECK (step >= 0),
    name            TEXT NOT NULL,
    value           REAL NOT NULL,
    PRIMARY KEY (training_run_id, step, name)
) WITHOUT ROWID;

CREATE TABLE audit_log (
    id        INTEGER PRIMARY KEY,
    at        TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now')),
    actor     TEXT NOT NULL,
    action    TEXT NOT NULL,
    entity    TEXT NOT NULL DEFAULT '',
    entity_id INTEGER,
    details   TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(details))
);
)sql";

// v2: evaluations of score runs (metric means, comparisons, modality bias, agreement) as JSON.
constexpr const char *kSchemaV2 = R"sql(
CREATE TABLE evaluations (
    id           INTEGER PRIMARY KEY,
    score_run_id INTEGER NOT NULL REFERENCES score_runs(id) ON DELETE CASCADE,
    options      TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(options)),
    results      TEXT NOT NULL CHECK (json_valid(results)),
    created_at   TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ','now'))
);
CREATE INDEX evaluations_by_run ON evaluations(score_run_id);
)sql";

// v3: pair claims, so one pair is on one analyst's screen at a time (storage/pair_claims.h).
constexpr const char *kSchemaV3 = R"sql(
CREATE TABLE pair_claims (
    id           INTEGER PRIMARY KEY,
    query_id     INTEGER NOT NULL REFERENCES queries(id) ON DELETE CASCADE,
    low_id       INTEGER NOT NULL REFERENCES candidates(id) ON DELETE CASCADE,
    high_id      INTEGER NOT NULL REFERENCES candidates(id) ON DELETE CASCADE,
    annotator_id INTEGER NOT NULL REFERENCES annotators(id),
    overlap      INTEGER NOT NULL DEFAULT 0 CHECK (overlap IN (0, 1)),
    claimed_at   TEXT NOT NULL,
    expires_at   TEXT NOT NULL,
    closed_at    TEXT,
    CHECK (low_id < high_id)
);
CREATE UNIQUE INDEX pair_claims_open ON pair_claims(query_id, low_id, high_id) WHERE closed_at IS NULL AND overlap = 0;
CREATE INDEX pair_claims_annotator ON pair_claims(annotator_id) WHERE closed_at IS NULL;
)sql";

// v3 on a server: every committed change to labels or claims notifies the channel unirank_labels
// (storage/label_watch.h), so other analysts' screens follow.
constexpr const char *kSchemaV3Server = R"sql(
CREATE FUNCTION unirank_notify_labels() RETURNS trigger LANGUAGE plpgsql AS
$$ BEGIN PERFORM pg_notify('unirank_labels', TG_TABLE_NAME); RETURN NULL; END $$;
CREATE TRIGGER unirank_graded_labels_changed AFTER INSERT OR UPDATE OR DELETE ON graded_labels
    FOR EACH STATEMENT EXECUTE FUNCTION unirank_notify_labels();
CREATE TRIGGER unirank_pair_labels_changed AFTER INSERT OR UPDATE OR DELETE ON pair_labels
    FOR EACH STATEMENT EXECUTE FUNCTION unirank_notify_labels();
CREATE TRIGGER unirank_pair_claims_changed AFTER INSERT OR UPDATE OR DELETE ON pair_claims
    FOR EACH STATEMENT EXECUTE FUNCTION unirank_notify_labels();
)sql";

constexpr Migration kMigrations[] = {
    {1, "initial schema: collections, media, queries, candidates, lists, labels, models, runs, training, audit",
     kSchemaV1},
    {2, "evaluations of score runs", kSchemaV2},
    {3, "pair claims: one pair on one analyst's screen at a time", kSchemaV3, nullptr, kSchemaV3Server},
};

} // namespace

std::span<const Migration> projectMigrations() { return kMigrations; }

int migrate(Database &db, std::span<const Migration> migrations)
{
    const bool server = db.backend() == Backend::PostgreSQL;
    const int latest = migrations.empty() ? 0 : migrations.back().version;
    const auto appId = db.applicationId();
    const int current = db.userVersion();
    const auto tables = db.tableCount();
    const auto where = redactedLocation(db.path().native());
    if (appId != kApplicationId && (appId != 0 || current != 0 || tables != 0))
        throw StorageError(ErrorKind::BadInput, 0,
                           "'" + where + (server ? "' is a PostgreSQL database with other tables, not a UniRank project"
                                                 : "' is an SQLite file but not a UniRank project"));
    if (current > latest)
        throw StorageError(ErrorKind::BadInput, 0,
                           "'" + where + "' has schema version " + std::to_string(current) +
                               ", newer than this build of UniRank knows (" + std::to_string(latest) +
                               "); open it with a newer version");
    int applied = 0;
    for (const auto &m : migrations) {
        if (m.version <= current)
            continue;
        Transaction tx(db);
        db.setApplicationId(kApplicationId); // on a server this also creates the bookkeeping the schema uses
        if (server && m.postgresSql)
            db.exec(m.postgresSql);
        else
            db.execSchema(m.sql);
        if (server && m.postgresExtra)
            db.exec(m.postgresExtra);
        db.setUserVersion(m.version);
        if (db.hasTable("audit_log")) {
            nlohmann::ordered_json details{{"version", m.version}, {"description", m.description}};
            db.prepare("INSERT INTO audit_log (actor, action, details) VALUES ('unirank', 'migrate', ?1)")
                .bind(1, details.dump())
                .run();
        }
        tx.commit();
        ++applied;
    }
    return applied;
}

} // namespace unirank::storage
