// SPDX-License-Identifier: GPL-3.0-or-later
// Thin RAII wrappers over a project database: Database (one connection), Statement (one prepared
// statement) and Transaction (a write transaction, rolled back unless committed).
//
// Two backends behind one API: an SQLite file (the embedded default) and a PostgreSQL server (a team
// project; the location is a `postgresql://` URL, see isServerLocation). SQL is written once, in the
// common subset of both: `?N` parameters, `INSERT ... ON CONFLICT`, `RETURNING id`, and the
// timestamp expression kNowSql. The PostgreSQL backend rewrites parameters and kNowSql (pg_sql.h).
//
// Threading: a Database is used by one thread at a time; give each thread its own connection.
// Errors: StorageError (kind Busy for a locked or unreachable database, or a serialization failure;
// Internal otherwise), with the backend's message and the statement's SQL. A server URL's password
// never appears in a message.
#pragma once

#include "core/util/error.h"

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

namespace unirank::storage {

enum class Backend { SQLite, PostgreSQL };
/// A result value's storage class (SQLite's), which a server column's type maps to.
enum class ColumnType { Null, Integer, Real, Text };

/// The current UTC time as ISO 8601 text with milliseconds (2026-11-27T14:32:53.123Z), in SQL.
inline constexpr const char *kNowSql = "strftime('%Y-%m-%dT%H:%M:%fZ','now')";

/// True for `postgresql://...` and `postgres://...` locations (a server project).
bool isServerLocation(std::string_view location);
/// The location with a URL's password replaced by `***`, for messages and logs.
std::string redactedLocation(std::string_view location);

class StorageError : public std::runtime_error {
public:
    /// `constraint`: the statement broke a CHECK, UNIQUE, NOT NULL or foreign key constraint.
    StorageError(ErrorKind kind, int code, const std::string &message, bool constraint = false);
    ErrorKind kind() const noexcept { return m_kind; }
    int code() const noexcept { return m_code; } ///< SQLite's result code; 0 for the server
    bool constraint() const noexcept { return m_constraint; }

private:
    ErrorKind m_kind;
    int m_code;
    bool m_constraint;
};

namespace detail {
class StatementImpl;
class ConnectionImpl;
} // namespace detail

class Statement {
public:
    explicit Statement(std::unique_ptr<detail::StatementImpl> impl);
    Statement(Statement &&other) noexcept;
    Statement &operator=(Statement &&other) noexcept;
    Statement(const Statement &) = delete;
    Statement &operator=(const Statement &) = delete;
    ~Statement();

    // Parameters are 1-based (SQLite's convention); columns below are 0-based.
    Statement &bind(int index, std::int64_t value);
    Statement &bind(int index, int value) { return bind(index, static_cast<std::int64_t>(value)); }
    Statement &bind(int index, double value);
    Statement &bind(int index, std::string_view value);
    Statement &bind(int index, const std::string &value) { return bind(index, std::string_view(value)); }
    Statement &bind(int index, const char *value) { return bind(index, std::string_view(value)); }
    Statement &bind(int index, std::nullptr_t);
    template <typename T>
    Statement &bind(int index, const std::optional<T> &value)
    {
        return value ? bind(index, *value) : bind(index, nullptr);
    }
    /// Binds all arguments to parameters 1..n.
    template <typename... Args>
    Statement &bindAll(const Args &...args)
    {
        int i = 0;
        (bind(++i, args), ...);
        return *this;
    }

    bool step();      ///< true when a row is available
    /// Steps through every row, mapping each with `read(const Statement &)`, then resets.
    template <typename F>
    auto collect(F &&read) -> std::vector<std::invoke_result_t<F &, const Statement &>>
    {
        std::vector<std::invoke_result_t<F &, const Statement &>> out;
        while (step())
            out.push_back(read(static_cast<const Statement &>(*this)));
        reset();
        return out;
    }
    /// The first row mapped with `read`, or nullopt when there is none; then resets.
    template <typename F>
    auto first(F &&read) -> std::optional<std::invoke_result_t<F &, const Statement &>>
    {
        std::optional<std::invoke_result_t<F &, const Statement &>> row;
        if (step())
            row = read(static_cast<const Statement &>(*this));
        reset();
        return row;
    }
    void run();       ///< steps to completion (for INSERT/UPDATE/DELETE), then resets
    /// Steps once and returns column 0 of the first row as an integer (`INSERT ... RETURNING id`), then
    /// resets. Throws StorageError when the statement returns no row.
    std::int64_t runReturningId();
    void reset();     ///< resets and clears bindings, ready for reuse

    bool isNull(int column) const;
    int columnCount() const;
    ColumnType columnType(int column) const;
    std::int64_t columnInt(int column) const;
    double columnDouble(int column) const;
    std::string columnText(int column) const;
    std::optional<std::int64_t> columnOptionalInt(int column) const;
    std::optional<std::string> columnOptionalText(int column) const;

private:
    std::unique_ptr<detail::StatementImpl> m_impl;
};

class Database {
public:
    enum class Mode { ReadWriteCreate, ReadWrite, ReadOnly };

    /// Opens a project database: an SQLite file (or ":memory:"), with the project's connection
    /// settings (WAL, foreign keys, synchronous=FULL, a busy timeout), or a `postgresql://` URL (UTC,
    /// synchronous commit, lock_timeout = the busy timeout; ReadOnly makes every transaction read
    /// only). ReadWriteCreate and ReadWrite are the same for a server. Throws StorageError naming the
    /// location (redacted).
    static Database open(const std::filesystem::path &location, Mode mode = Mode::ReadWriteCreate,
                         int busyTimeoutMs = 5000);

    Database(Database &&other) noexcept;
    Database &operator=(Database &&other) noexcept;
    Database(const Database &) = delete;
    Database &operator=(const Database &) = delete;
    ~Database();

    Backend backend() const;

    /// Runs one or more statements without results (schema scripts, savepoints).
    void exec(std::string_view sql);
    /// Runs a schema script written in SQLite's DDL; a server reads it as toPostgresSchema (pg_sql.h)
    /// maps it (identity keys, BIGINT, DOUBLE PRECISION, byte-order TEXT).
    void execSchema(std::string_view ddl);

    /// Prepares exactly one statement; trailing SQL is an error.
    Statement prepare(std::string_view sql);

    /// A prepared statement kept for the connection's lifetime, reset and ready for new bindings.
    Statement &cached(std::string_view sql);

    /// Runs a query returning one integer (e.g. COUNT(*)); nullopt when there is no row or NULL.
    std::optional<std::int64_t> queryInt(std::string_view sql);

    /// The number of the last applied migration (SQLite: PRAGMA user_version; server: unirank_meta).
    int userVersion();
    void setUserVersion(int version);
    /// The mark of a UniRank project (SQLite: PRAGMA application_id; server: unirank_meta); 0 if none.
    std::int64_t applicationId();
    void setApplicationId(std::int64_t id);
    /// Number of tables in the database (the project's schema on a server), bookkeeping included.
    std::int64_t tableCount();
    bool hasTable(std::string_view name);
    /// Rows changed by the last INSERT/UPDATE/DELETE on this connection.
    int changes() const;
    /// SQLite: PRAGMA integrity_check ("ok" when the file is sound). Server: "ok" when the connection
    /// answers and every foreign key of the project's tables is validated, else the problem.
    std::string integrityCheck();

    /// False once a server connection was lost (the server restarted, the network dropped); always true
    /// for a file. A lost connection stays lost: open a new Database.
    bool connected() const;

    /// BEGIN IMMEDIATE (SQLite: takes the write lock up front) or BEGIN (server). Use Transaction.
    void begin();

    /// Subscribes this connection to a change channel (server: LISTEN; SQLite: nothing to do).
    void listen(const std::string &channel);
    /// Waits up to `timeout` for a change committed by another connection: a notification on a channel
    /// listened to (server), or a new PRAGMA data_version (SQLite, checked once after the wait). True
    /// when something changed. Throws StorageError when the connection is lost.
    bool waitForChange(std::chrono::milliseconds timeout);

    /// The location as given (a path or a URL; may hold a password: do not print it).
    const std::filesystem::path &path() const { return m_path; }

private:
    Database(std::unique_ptr<detail::ConnectionImpl> impl, std::filesystem::path path);

    std::unique_ptr<detail::ConnectionImpl> m_impl;
    std::filesystem::path m_path;
    std::map<std::string, std::unique_ptr<Statement>, std::less<>> m_cache;
};

/// begin() on construction (SQLite: takes the write lock up front, so a busy database fails at the
/// start, not halfway); ROLLBACK in the destructor unless commit() was called.
class Transaction {
public:
    explicit Transaction(Database &db);
    ~Transaction();
    Transaction(const Transaction &) = delete;
    Transaction &operator=(const Transaction &) = delete;

    void commit();

private:
    Database &m_db;
    bool m_done = false;
};

} // namespace unirank::storage
