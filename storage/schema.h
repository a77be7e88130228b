// SPDX-License-Identifier: GPL-3.0-or-later
// The project schema as an ordered list of migrations. PRAGMA user_version holds the number of the
// last applied migration; PRAGMA application_id marks the file as a UniRank project.
#pragma once

#include "storage/sqlite/database.h"

#include <span>

namespace unirank::storage {

struct Migration {
    int version;             ///< 1, 2, ... in order
    const char *description; ///< one line for the audit log
    const char *sql;         ///< a script; runs inside the migration's transaction
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
