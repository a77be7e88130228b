// SPDX-License-Identifier: GPL-3.0-or-later
// The project schema as an ordered list of migrations, one list for both backends. The number of the
// last applied migration and the mark of a UniRank project are PRAGMA user_version/application_id in
// an SQLite file and rows of unirank_meta on a server (Database::userVersion, applicationId).
#pragma once

#include "storage/db/database.h"

#include <span>

namespace unirank::storage {

struct Migration {
    int version;             ///< 1, 2, ... in order
    const char *description; ///< one line for the audit log
    const char *sql;         ///< a script; runs inside the migration's transaction
    /// The script for a server project; null: `sql` as toPostgresSchema (pg_sql.h) maps SQLite's DDL.
    const char *postgresSql = nullptr;
    /// Run after it on a server only: what a file project has no use for (triggers that notify).
    const char *postgresExtra = nullptr;
};

inline constexpr int kApplicationId = 0x554E524B; // "UNRK"

/// The project's migrations, oldest first.
std::span<const Migration> projectMigrations();

/// Brings `db` up to the last migration. Each migration runs in its own transaction together with its
/// user_version bump, so a failure leaves the file at the previous version. Throws StorageError when
/// the file is not a UniRank project, or was written by a newer schema than `migrations` knows.
/// Returns the number of migrations applied.
int migrate(Database &db, std::span<const Migration> migrations = projectMigrations());

} // namespace unirank::storage
