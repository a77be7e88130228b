// SPDX-License-Identifier: GPL-3.0-or-later
#include "storage/sqlite/database.h"

#include <sqlite3.h>

namespace unirank::storage {
namespace {

ErrorKind kindOf(int rc)
{
    const int primary = rc & 0xFF;
    return (primary == SQLITE_BUSY || primary == SQLITE_LOCKED) ? ErrorKind::Busy : ErrorKind::Internal;
}

/// A busy database is not a failure of the SQL: say what the user can do, then the detail.
std::string withBusyHint(int rc, const std::string &detail)
{
    if (kindOf(rc) != ErrorKind::Busy)
        return detail;
    return "the project is in use by another process (another UniRank Studio or unirank-cli is writing to it); "
           "nothing was changed, try again in a moment [" + detail + "]";
}

[[noreturn]] void throwSqlite(sqlite3 *db, int rc, const std::string &context)
{
    throw StorageError(kindOf(rc), rc, withBusyHint(rc, context + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc))));
}

} // namespace

StorageError::StorageError(ErrorKind kind, int sqliteCode, const std::string &message)
    : std::runtime_error(message)
    , m_kind(kind)
    , m_code(sqliteCode)
{
}

// --- Statement -------------------------------------------------------------------------------

Statement::Statement(sqlite3 *db, sqlite3_stmt *stmt)
    : m_db(db)
    , m_stmt(stmt)
{
}

Statement::Statement(Statement &&other) noexcept
    : m_db(std::exchange(other.m_db, nullptr))
    , m_stmt(std::exchange(other.m_stmt, nullptr))
{
}

Statement &Statement::operator=(Statement &&other) noexcept
{
    if (this != &other) {
        sqlite3_finalize(m_stmt);
        m_db = std::exchange(other.m_db, nullptr);
        m_stmt = std::exchange(other.m_stmt, nullptr);
    }
    return *this;
}

Statement::~Statement() { sqlite3_finalize(m_stmt); }

void Statement::fail(int rc) const
{
    const char *sql = m_stmt ? sqlite3_sql(m_stmt) : nullptr;
    throwSqlite(m_db, rc, std::string("SQL error in '") + (sql ? sql : "?") + "'");
}

Statement &Statement::bind(int index, std::int64_t value)
{
    if (const int rc = sqlite3_bind_int64(m_stmt, index, value); rc != SQLITE_OK)
        fail(rc);
    return *this;
}

Statement &Statement::bind(int index, double value)
{
    if (const int rc = sqlite3_bind_double(m_stmt, index, value); rc != SQLITE_OK)
        fail(rc);
    return *this;
}

Statement &Statement::bind(int index, std::string_view value)
{
    if (const int rc = sqlite3_bind_text64(m_stmt, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8);
        rc != SQLITE_OK)
        fail(rc);
    return *this;
}

Statement &Statement::bind(int index, std::nullptr_t)
{
    if (const int rc = sqlite3_bind_null(m_stmt, index); rc != SQLITE_OK)
        fail(rc);
    return *this;
}

bool Statement::step()
{
    const int rc = sqlite3_step(m_stmt);
    if (rc == SQLITE_ROW)
        return true;
    if (rc == SQLITE_DONE)
        return false;
    sqlite3_reset(m_stmt);
    fail(rc);
}

void Statement::run()
{
    while (step()) {
    }
    reset();
}

void Statement::reset()
{
    sqlite3_reset(m_stmt);
    sqlite3_clear_bindings(m_stmt);
}

bool Statement::isNull(int column) const { return sqlite3_column_type(m_stmt, column) == SQLITE_NULL; }
std::int64_t Statement::columnInt(int column) const { return sqlite3_column_int64(m_stmt, column); }
double Statement::columnDouble(int column) const { return sqlite3_column_double(m_stmt, column); }

std::string Statement::columnText(int column) const
{
    const auto *p = reinterpret_cast<const char *>(sqlite3_column_text(m_stmt, column));
    return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(m_stmt, column))) : std::string();
}

std::optional<std::int64_t> Statement::columnOptionalInt(int column) const
{
    return isNull(column) ? std::nullopt : std::optional(columnInt(column));
}

std::optional<std::string> Statement::columnOptionalText(int column) const
{
    return isNull(column) ? std::nullopt : std::optional(columnText(column));
}

// --- Database --------------------------------------------------------------------------------

Database::Database(sqlite3 *db, std::filesystem::path path)
    : m_db(db)
    , m_path(std::move(path))
{
}

Database::Database(Database &&other) noexcept
    : m_db(std::exchange(other.m_db, nullptr))
    , m_path(std::move(other.m_path))
    , m_cache(std::move(other.m_cache))
{
}

Database &Database::operator=(Database &&other) noexcept
{
    if (this != &other) {
        m_cache.clear();
        sqlite3_close_v2(m_db);
        m_db = std::exchange(other.m_db, nullptr);
        m_path = std::move(other.m_path);
        m_cache = std::move(other.m_cache);
    }
    return *this;
}

Database::~Database()
{
    m_cache.clear(); // statements before the connection
    sqlite3_close_v2(m_db);
}

Database Database::open(const std::filesystem::path &path, Mode mode, int busyTimeoutMs)
{
    int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
    switch (mode) {
    case Mode::ReadWriteCreate: flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE; break;
    case Mode::ReadWrite: flags |= SQLITE_OPEN_READWRITE; break;
    case Mode::ReadOnly: flags |= SQLITE_OPEN_READONLY; break;
    }
    sqlite3 *raw = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
    if (rc != SQLITE_OK) {
        std::string msg = "cannot open project database '" + path.string() + "': " +
                          (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc));
        sqlite3_close_v2(raw);
        throw StorageError(kindOf(rc), rc, msg);
    }
    Database db(raw, path);
    sqlite3_busy_timeout(raw, busyTimeoutMs);
    sqlite3_extended_result_codes(raw, 1);
    db.exec("PRAGMA foreign_keys = ON");
    if (mode != Mode::ReadOnly && path != ":memory:") {
        db.exec("PRAGMA journal_mode = WAL");
        db.exec("PRAGMA synchronous = FULL"); // a label whose write returned survives power loss too
    }
    return db;
}

void Database::exec(std::string_view sql)
{
    char *err = nullptr;
    const std::string text(sql);
    const int rc = sqlite3_exec(m_db, text.c_str(), nullptr, nullptr, &err);
    if (rc != SQLITE_OK) {
        std::string msg = err ? err : sqlite3_errstr(rc);
        sqlite3_free(err);
        throw StorageError(kindOf(rc), rc, withBusyHint(rc, "SQL error: " + msg + " in '" + text.substr(0, 200) + "'"));
    }
}

Statement Database::prepare(std::string_view sql)
{
    sqlite3_stmt *stmt = nullptr;
    const char *tail = nullptr;
    const int rc = sqlite3_prepare_v3(m_db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                                      &stmt, &tail);
    if (rc != SQLITE_OK)
        throwSqlite(m_db, rc, "cannot prepare '" + std::string(sql) + "'");
    if (!stmt)
        throw StorageError(ErrorKind::Internal, SQLITE_MISUSE, "empty SQL statement");
    Statement s(m_db, stmt);
    const std::string_view rest(tail, static_cast<std::size_t>(sql.data() + sql.size() - tail));
    if (rest.find_first_not_of(" \t\r\n;") != std::string_view::npos)
        throw StorageError(ErrorKind::Internal, SQLITE_MISUSE, "more than one statement in '" + std::string(sql) + "'");
    return s;
}

Statement &Database::cached(std::string_view sql)
{
    auto it = m_cache.find(sql);
    if (it == m_cache.end())
        it = m_cache.emplace(std::string(sql), std::make_unique<Statement>(prepare(sql))).first;
    it->second->reset();
    return *it->second;
}

std::optional<std::int64_t> Database::queryInt(std::string_view sql)
{
    Statement s = prepare(sql);
    if (!s.step() || s.isNull(0))
        return std::nullopt;
    return s.columnInt(0);
}

int Database::userVersion() { return static_cast<int>(queryInt("PRAGMA user_version").value_or(0)); }

void Database::setUserVersion(int version) { exec("PRAGMA user_version = " + std::to_string(version)); }

std::int64_t Database::lastInsertRowId() const { return sqlite3_last_insert_rowid(m_db); }

int Database::changes() const { return sqlite3_changes(m_db); }

std::string Database::integrityCheck()
{
    Statement s = prepare("PRAGMA integrity_check");
    std::string out;
    while (s.step()) {
        if (!out.empty())
            out += "\n";
        out += s.columnText(0);
    }
    return out;
}

// --- Transaction -----------------------------------------------------------------------------

Transaction::Transaction(Database &db)
    : m_db(db)
{
    m_db.exec("BEGIN IMMEDIATE");
}

Transaction::~Transaction()
{
    if (!m_done) {
        try {
            m_db.exec("ROLLBACK");
        } catch (...) {
            // The connection rolls back by itself when it closes; nothing else to do here.
        }
    }
}

void Transaction::commit()
{
    m_db.exec("COMMIT");
    m_done = true;
}

} // namespace unirank::storage
