// SPDX-License-Identifier: GPL-3.0-or-later
// The SQLite backend: one sqlite3 connection (SQLITE_OPEN_NOMUTEX), statements prepared persistent.
#include "storage/db/connection.h"

#include <sqlite3.h>

#include <thread>

namespace unirank::storage::detail {
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
    throw StorageError(kindOf(rc), rc, withBusyHint(rc, context + ": " + (db ? sqlite3_errmsg(db) : sqlite3_errstr(rc))),
                       (rc & 0xFF) == SQLITE_CONSTRAINT);
}

class SqliteStatement final : public StatementImpl {
public:
    SqliteStatement(sqlite3 *db, sqlite3_stmt *stmt)
        : m_db(db)
        , m_stmt(stmt)
    {
    }
    ~SqliteStatement() override { sqlite3_finalize(m_stmt); }

    void bindInt(int index, std::int64_t value) override { check(sqlite3_bind_int64(m_stmt, index, value)); }
    void bindDouble(int index, double value) override { check(sqlite3_bind_double(m_stmt, index, value)); }
    void bindText(int index, std::string_view value) override
    {
        check(sqlite3_bind_text64(m_stmt, index, value.data(), value.size(), SQLITE_TRANSIENT, SQLITE_UTF8));
    }
    void bindNull(int index) override { check(sqlite3_bind_null(m_stmt, index)); }

    bool step() override
    {
        const int rc = sqlite3_step(m_stmt);
        if (rc == SQLITE_ROW)
            return true;
        if (rc == SQLITE_DONE)
            return false;
        sqlite3_reset(m_stmt);
        fail(rc);
    }

    void reset() override
    {
        sqlite3_reset(m_stmt);
        sqlite3_clear_bindings(m_stmt);
    }

    bool isNull(int column) const override { return sqlite3_column_type(m_stmt, column) == SQLITE_NULL; }
    int columnCount() const override { return sqlite3_column_count(m_stmt); }
    ColumnType columnType(int column) const override
    {
        switch (sqlite3_column_type(m_stmt, column)) {
        case SQLITE_NULL: return ColumnType::Null;
        case SQLITE_INTEGER: return ColumnType::Integer;
        case SQLITE_FLOAT: return ColumnType::Real;
        default: return ColumnType::Text; // the schema stores no BLOBs
        }
    }
    std::int64_t columnInt(int column) const override { return sqlite3_column_int64(m_stmt, column); }
    double columnDouble(int column) const override { return sqlite3_column_double(m_stmt, column); }
    std::string columnText(int column) const override
    {
        const auto *p = reinterpret_cast<const char *>(sqlite3_column_text(m_stmt, column));
        return p ? std::string(p, static_cast<std::size_t>(sqlite3_column_bytes(m_stmt, column))) : std::string();
    }

private:
    sqlite3 *m_db;
    sqlite3_stmt *m_stmt;

    void check(int rc) const
    {
        if (rc != SQLITE_OK)
            fail(rc);
    }
    [[noreturn]] void fail(int rc) const
    {
        const char *sql = sqlite3_sql(m_stmt);
        throwSqlite(m_db, rc, std::string("SQL error in '") + (sql ? sql : "?") + "'");
    }
};

class SqliteConnection final : public ConnectionImpl {
public:
    explicit SqliteConnection(sqlite3 *db)
        : m_db(db)
    {
    }
    ~SqliteConnection() override { sqlite3_close_v2(m_db); }

    Backend backend() const override { return Backend::SQLite; }

    void exec(std::string_view sql) override
    {
        char *err = nullptr;
        const std::string text(sql);
        const int rc = sqlite3_exec(m_db, text.c_str(), nullptr, nullptr, &err);
        if (rc != SQLITE_OK) {
            std::string msg = err ? err : sqlite3_errstr(rc);
            sqlite3_free(err);
            throw StorageError(kindOf(rc), rc, withBusyHint(rc, "SQL error: " + msg + " in '" + text.substr(0, 200) + "'"),
                               (rc & 0xFF) == SQLITE_CONSTRAINT);
        }
    }

    std::unique_ptr<StatementImpl> prepare(std::string_view sql) override
    {
        sqlite3_stmt *stmt = nullptr;
        const char *tail = nullptr;
        const int rc = sqlite3_prepare_v3(m_db, sql.data(), static_cast<int>(sql.size()), SQLITE_PREPARE_PERSISTENT,
                                          &stmt, &tail);
        if (rc != SQLITE_OK)
            throwSqlite(m_db, rc, "cannot prepare '" + std::string(sql) + "'");
        if (!stmt)
            throw StorageError(ErrorKind::Internal, SQLITE_MISUSE, "empty SQL statement");
        auto s = std::make_unique<SqliteStatement>(m_db, stmt);
        const std::string_view rest(tail, static_cast<std::size_t>(sql.data() + sql.size() - tail));
        if (rest.find_first_not_of(" \t\r\n;") != std::string_view::npos)
            throw StorageError(ErrorKind::Internal, SQLITE_MISUSE, "more than one statement in '" + std::string(sql) + "'");
        return s;
    }

    int changes() const override { return sqlite3_changes(m_db); }
    int userVersion() override { return static_cast<int>(queryInt("PRAGMA user_version")); }
    void setUserVersion(int version) override { exec("PRAGMA user_version = " + std::to_string(version)); }
    std::int64_t applicationId() override { return queryInt("PRAGMA application_id"); }
    void setApplicationId(std::int64_t id) override { exec("PRAGMA application_id = " + std::to_string(id)); }
    std::int64_t tableCount() override { return queryInt("SELECT count(*) FROM sqlite_schema WHERE type = 'table'"); }

    bool hasTable(std::string_view name) override
    {
        auto s = prepare("SELECT count(*) FROM sqlite_schema WHERE type = 'table' AND name = ?1");
        s->bindText(1, name);
        return s->step() && s->columnInt(0) > 0;
    }

    std::string integrityCheck() override
    {
        auto s = prepare("PRAGMA integrity_check");
        std::string out;
        while (s->step()) {
            if (!out.empty())
                out += "\n";
            out += s->columnText(0);
        }
        return out;
    }

    void begin() override { exec("BEGIN IMMEDIATE"); }
    bool connected() const override { return true; }
    void listen(const std::string &) override { m_dataVersion = queryInt("PRAGMA data_version"); }
    bool waitForChange(std::chrono::milliseconds timeout) override
    {
        std::this_thread::sleep_for(timeout);
        const auto version = queryInt("PRAGMA data_version");
        return std::exchange(m_dataVersion, version) != version;
    }

private:
    sqlite3 *m_db;
    std::int64_t m_dataVersion = 0;

    std::int64_t queryInt(const char *sql)
    {
        auto s = prepare(sql);
        return s->step() ? s->columnInt(0) : 0;
    }
};

} // namespace

std::unique_ptr<ConnectionImpl> openSqlite(const std::filesystem::path &path, Database::Mode mode, int busyTimeoutMs)
{
    int flags = SQLITE_OPEN_NOMUTEX | SQLITE_OPEN_EXRESCODE;
    switch (mode) {
    case Database::Mode::ReadWriteCreate: flags |= SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE; break;
    case Database::Mode::ReadWrite: flags |= SQLITE_OPEN_READWRITE; break;
    case Database::Mode::ReadOnly: flags |= SQLITE_OPEN_READONLY; break;
    }
    sqlite3 *raw = nullptr;
    const int rc = sqlite3_open_v2(path.c_str(), &raw, flags, nullptr);
    if (rc != SQLITE_OK) {
        std::string msg = "cannot open project database '" + path.string() + "': " +
                          (raw ? sqlite3_errmsg(raw) : sqlite3_errstr(rc));
        sqlite3_close_v2(raw);
        throw StorageError(kindOf(rc), rc, msg);
    }
    auto db = std::make_unique<SqliteConnection>(raw);
    sqlite3_busy_timeout(raw, busyTimeoutMs);
    sqlite3_extended_result_codes(raw, 1);
    db->exec("PRAGMA foreign_keys = ON");
    if (mode != Database::Mode::ReadOnly && path != ":memory:") {
        db->exec("PRAGMA journal_mode = WAL");
        db->exec("PRAGMA synchronous = FULL"); // a label whose write returned survives power loss too
    }
    return db;
}

} // namespace unirank::storage::detail
