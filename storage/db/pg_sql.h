// SPDX-License-Identifier: GPL-3.0-or-later
// Internal: the project's SQL (written for both backends, see database.h) as PostgreSQL reads it.
//
// Statements: `?N` and `?` parameters become `$N`, and kNowSql becomes unirank_now() (a function the
// server schema defines). Nothing inside quotes or comments is touched.
// Schema scripts (migrations): the statement rules, plus the column types of SQLite's DDL mapped to
// the server's: `INTEGER PRIMARY KEY` -> an identity column, INTEGER -> BIGINT, REAL -> DOUBLE
// PRECISION, TEXT -> TEXT COLLATE "C" (byte order, as SQLite compares, so ORDER BY and UNIQUE agree
// on both backends), and `WITHOUT ROWID` dropped.
#pragma once

#include <string>
#include <string_view>

namespace unirank::storage::detail {

struct PostgresStatementText {
    std::string sql;
    int parameters = 0; ///< the highest parameter number used
};

PostgresStatementText toPostgresStatement(std::string_view sql);
std::string toPostgresSchema(std::string_view ddl);

/// Functions and the bookkeeping table a server project needs before its first migration.
extern const char *const kPostgresPrelude;

} // namespace unirank::storage::detail
