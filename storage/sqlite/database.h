// SPDX-License-Identifier: GPL-3.0-or-later
// Thin RAII wrappers over the SQLite C API: Database (one connection), Statement (one prepared
// statement) and Transaction (BEGIN IMMEDIATE ... COMMIT, rolled back unless committed).
//
// Threading: a Database is used by one thread at a time (SQLITE_OPEN_NOMUTEX); give each thread its
// own connection. Errors: StorageError (kind Busy for SQLITE_BUSY/LOCKED, Internal otherwise), with
// SQLite's message and the statement's SQL.
#pragma once

#include "core/util/error.h"

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <vector>

struct sqlite3;
struct sqlite3_stmt;

namespace unirank::storage {

class StorageError : public std::runtime_error {
public:
    StorageError(ErrorKind kind, int sqliteCode, const std::string &message);
    ErrorKind kind() const noexcept { return m_kind; }
    int sqliteCode() const noexcept { return m_code; }

private:
    ErrorKind m_kind;
    int m_code;
};

class Statement {
public:
    Statement(sqlite3 *db, sqlite3_stmt *stmt);
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
    void reset();     ///< resets and clears bindings, ready for reuse

    bool isNull(int column) const;
    std::int64_t columnInt(int column) const;
    double columnDouble(int column) const;
    std::string columnText(int column) const;
    std::optional<std::int64_t> columnOptionalInt(int column) const;
    std::optional<std::string> columnOptionalText(int column) const;

private:
    sqlite3 *m_db = nullptr;
    sqlite3_stmt *m_stmt = nullptr;

    [[noreturn]] void fail(int rc) const;
};

class Database {
public:
    enum class Mode { ReadWriteCreate, ReadWrite, ReadOnly };

    /// Opens a file (or ":memory:") and applies the project's connection settings: WAL, foreign keys,
    /// synchronous=FULL, a busy timeout. Throws StorageError naming the path.
    static Database open(const std::filesystem::path &path, Mode mode = Mode::ReadWriteCreate,
                         int busyTimeoutMs = 5000);

    Database(Database &&other) noexcept;
    Database &operator=(Database &&other) noexcept;
    Database(const Database &) = delete;
    Database &operator=(const Database &) = delete;
    ~Database();

    /// Runs one or more statements without results (schema scripts, pragmas).
    void exec(std::string_view sql);

    /// Prepares exactly one statement; trailing SQL is an error.
    Statement prepare(std::string_view sql);

    /// A prepared statement kept for the connection's lifetime, reset and ready for new bindings.
    Statement &cached(std::string_view sql);

    /// Runs a query returning one integer (e.g. COUNT(*)); nullopt when there is no row or NULL.
    std::optional<std::int64_t> queryInt(std::string_view sql);

    int userVersion();
    void setUserVersion(int version);
    std::int64_t lastInsertRowId() const;
    int changes() const;
    /// PRAGMA integrity_check result: "ok" when the file is sound.
    std::string integrityCheck();

    sqlite3 *handle() const { return m_db; }
    const std::filesystem::path &path() const { return m_path; }

private:
    Database(sqlite3 *db, std::filesystem::path path);

    sqlite3 *m_db = nullptr;
    std::filesystem::path m_path;
    std::map<std::string, std::unique_ptr<Statement>, std::less<>> m_cache;
};

/// BEGIN IMMEDIATE on construction (takes the write lock up front, so a busy database fails at the
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
