// SPDX-License-Identifier: GPL-3.0-or-later
// The PostgreSQL backend (libpq): text parameters with server-inferred types, text results. Every
// statement is prepared on the server (named) when it is created and deallocated when it goes.
#include "storage/db/connection.h"
#include "storage/db/pg_sql.h"

#include <libpq-fe.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cmath>
#include <poll.h>
#include <string_view>
#include <utility>
#include <vector>

namespace unirank::storage::detail {
namespace {

struct ResultDeleter {
    void operator()(PGresult *r) const { PQclear(r); }
};
using ResultPtr = std::unique_ptr<PGresult, ResultDeleter>;

/// SQLSTATE classes a caller may retry: serialization failure, deadlock, lock timeout, cancel,
/// connection exceptions, server shutting down.
bool isTransient(std::string_view state)
{
    return state == "40001" || state == "40P01" || state == "55P03" || state == "57014" || state.starts_with("08") ||
           state.starts_with("57P");
}

[[noreturn]] void throwResult(PGconn *conn, const PGresult *res, const std::string &sql)
{
    const char *stateField = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : nullptr;
    const std::string state = stateField ? stateField : (PQstatus(conn) == CONNECTION_BAD ? "08006" : "");
    std::string message = res ? PQresultErrorMessage(res) : PQerrorMessage(conn);
    while (!message.empty() && (message.back() == '\n' || message.back() == ' '))
        message.pop_back();
    const bool transient = isTransient(state);
    if (state == "42501") // insufficient privilege, or a row-level security policy: the server's "no"
        throw StorageError(ErrorKind::BadInput, 0,
                           "the project server does not allow this for your role (" + message + ") in '" +
                               sql.substr(0, 200) + "'",
                           false);
    std::string text = "SQL error in '" + sql.substr(0, 300) + "': " + message + (state.empty() ? "" : " [" + state + "]");
    if (transient)
        text = "the project is in use by another process (another analyst's UniRank Studio or unirank-cli is "
               "writing to it on the server), or the server is unreachable; nothing was changed, try again in a "
               "moment [" + text + "]";
    throw StorageError(transient ? ErrorKind::Busy : ErrorKind::Internal, 0, text, state.starts_with("23"));
}

ResultPtr checked(PGconn *conn, PGresult *raw, const std::string &sql)
{
    ResultPtr res(raw);
    const auto status = res ? PQresultStatus(res.get()) : PGRES_FATAL_ERROR;
    if (status != PGRES_COMMAND_OK && status != PGRES_TUPLES_OK)
        throwResult(conn, res.get(), sql);
    return res;
}

int affectedRows(const PGresult *res)
{
    const char *n = PQcmdTuples(const_cast<PGresult *>(res));
    int value = 0;
    if (n && *n)
        std::from_chars(n, n + std::strlen(n), value);
    return value;
}

class PgConnection;

class PgStatement final : public StatementImpl {
public:
    PgStatement(PgConnection &conn, std::string original, PostgresStatementText text, std::string name)
        : m_conn(conn)
        , m_original(std::move(original))
        , m_text(std::move(text))
        , m_name(std::move(name))
        , m_values(static_cast<std::size_t>(m_text.parameters))
    {
    }
    ~PgStatement() override;

    void bindInt(int index, std::int64_t value) override { slot(index) = std::to_string(value); }
    void bindDouble(int index, double value) override
    {
        if (std::isnan(value)) {
            slot(index) = "NaN";
        } else if (std::isinf(value)) {
            slot(index) = value > 0 ? "Infinity" : "-Infinity";
        } else {
            char buffer[32];
            const auto r = std::to_chars(buffer, buffer + sizeof buffer, value); // shortest exact
            slot(index) = std::string(buffer, r.ptr);
        }
    }
    void bindText(int index, std::string_view value) override
    {
        if (value.find('\0') != std::string_view::npos)
            throw StorageError(ErrorKind::BadInput, 0, "text with a NUL byte cannot be stored on the server: '" +
                                                           m_original.substr(0, 200) + "'");
        slot(index) = std::string(value);
    }
    void bindNull(int index) override { slot(index).reset(); }

    bool step() override;
    void prepareOnServer();
    void reset() override
    {
        m_result.reset();
        m_row = -1;
        for (auto &v : m_values)
            v.reset();
    }

    bool isNull(int column) const override { return PQgetisnull(m_result.get(), m_row, column) != 0; }
    int columnCount() const override { return m_result ? PQnfields(m_result.get()) : 0; }
    ColumnType columnType(int column) const override
    {
        if (isNull(column))
            return ColumnType::Null;
        switch (PQftype(m_result.get(), column)) { // pg_type OIDs
        case 16: case 20: case 21: case 23: return ColumnType::Integer; // bool, int8, int2, int4
        case 700: case 701: case 1700: return ColumnType::Real;        // float4, float8, numeric
        default: return ColumnType::Text;
        }
    }
    std::int64_t columnInt(int column) const override
    {
        const std::string_view v = value(column);
        if (v == "t" || v == "f")
            return v == "t" ? 1 : 0;
        std::int64_t out = 0;
        const auto r = std::from_chars(v.data(), v.data() + v.size(), out);
        if (r.ec == std::errc() && r.ptr == v.data() + v.size())
            return out;
        return static_cast<std::int64_t>(columnDouble(column)); // numeric text, as SQLite converts
    }
    double columnDouble(int column) const override
    {
        const std::string_view v = value(column);
        if (v == "NaN")
            return std::nan("");
        if (v == "Infinity" || v == "-Infinity")
            return v[0] == '-' ? -HUGE_VAL : HUGE_VAL;
        double out = 0;
        std::from_chars(v.data(), v.data() + v.size(), out);
        return out;
    }
    std::string columnText(int column) const override { return std::string(value(column)); }

private:
    PgConnection &m_conn;
    std::string m_original;
    PostgresStatementText m_text;
    std::string m_name; ///< the server-side prepared statement, deallocated with this object
    bool m_prepared = false;
    std::vector<std::optional<std::string>> m_values;
    ResultPtr m_result;
    int m_row = -1;

    std::optional<std::string> &slot(int index)
    {
        if (index < 1 || index > static_cast<int>(m_values.size()))
            throw StorageError(ErrorKind::Internal, 0, "parameter " + std::to_string(index) + " out of range in '" +
                                                           m_original.substr(0, 200) + "'");
        return m_values[static_cast<std::size_t>(index - 1)];
    }
    std::string_view value(int column) const
    {
        if (!m_result || m_row < 0 || column < 0 || column >= PQnfields(m_result.get()))
            return {};
        return {PQgetvalue(m_result.get(), m_row, column),
                static_cast<std::size_t>(PQgetlength(m_result.get(), m_row, column))};
    }
};

class PgConnection final : public ConnectionImpl {
public:
    explicit PgConnection(PGconn *conn)
        : m_conn(conn)
    {
    }
    ~PgConnection() override { PQfinish(m_conn); }

    PGconn *handle() const { return m_conn; }
    void setChanges(int n) { m_changes = n; }
    std::string nextName() { return "unirank_s" + std::to_string(++m_statements); }

    Backend backend() const override { return Backend::PostgreSQL; }

    void exec(std::string_view sql) override
    {
        const std::string text = toPostgresStatement(sql).sql;
        auto res = checked(m_conn, PQexec(m_conn, text.c_str()), text);
        m_changes = affectedRows(res.get());
    }

    std::unique_ptr<StatementImpl> prepare(std::string_view sql) override
    {
        const auto trimmed = sql.substr(0, sql.find_last_not_of(" \t\r\n;") + 1);
        auto text = toPostgresStatement(trimmed);
        if (hasStatementSeparator(text.sql))
            throw StorageError(ErrorKind::Internal, 0, "more than one statement in '" + std::string(sql) + "'");
        // Prepared on the server at once, so bad SQL fails here, as in SQLite.
        auto statement = std::make_unique<PgStatement>(*this, std::string(sql), std::move(text), nextName());
        statement->prepareOnServer();
        return statement;
    }

    int changes() const override { return m_changes; }

    int userVersion() override { return static_cast<int>(meta("schema_version")); }
    void setUserVersion(int version) override { setMeta("schema_version", version); }
    std::int64_t applicationId() override { return meta("application_id"); }
    void setApplicationId(std::int64_t id) override { setMeta("application_id", id); }

    std::int64_t tableCount() override
    {
        return queryInt("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema()", {});
    }
    bool hasTable(std::string_view name) override
    {
        return queryInt("SELECT count(*) FROM pg_tables WHERE schemaname = current_schema() AND tablename = $1",
                        std::string(name)) > 0;
    }

    std::string integrityCheck() override
    {
        auto res = checked(m_conn,
                           PQexec(m_conn, "SELECT conrelid::regclass::text || ': ' || conname FROM pg_constraint "
                                          "WHERE NOT convalidated AND connamespace = current_schema()::regnamespace"),
                           "integrity check");
        std::string out;
        for (int i = 0; i < PQntuples(res.get()); ++i)
            out += std::string(out.empty() ? "" : "\n") + "constraint not validated: " + PQgetvalue(res.get(), i, 0);
        return out.empty() ? "ok" : out;
    }

    void begin() override { exec("BEGIN"); }
    bool connected() const override { return PQstatus(m_conn) == CONNECTION_OK; }

    void listen(const std::string &channel) override { exec("LISTEN \"" + channel + "\""); }

    bool waitForChange(std::chrono::milliseconds timeout) override
    {
        const auto drain = [&] {
            bool any = false;
            while (PGnotify *n = PQnotifies(m_conn)) {
                PQfreemem(n);
                any = true;
            }
            return any;
        };
        if (drain())
            return true;
        pollfd fd{PQsocket(m_conn), POLLIN, 0};
        if (fd.fd < 0)
            throwResult(m_conn, nullptr, "waiting for changes");
        const int ready = ::poll(&fd, 1, static_cast<int>(timeout.count()));
        if (ready < 0 && errno != EINTR)
            throwResult(m_conn, nullptr, "waiting for changes");
        if (ready > 0 && PQconsumeInput(m_conn) == 0)
            throwResult(m_conn, nullptr, "waiting for changes");
        return drain();
    }

private:
    PGconn *m_conn;
    int m_changes = 0;
    int m_statements = 0;

    static bool hasStatementSeparator(const std::string &sql)
    {
        // A ';' outside quotes: toPostgresStatement keeps quoting intact, so scan the same way.
        char quote = 0;
        for (const char c : sql) {
            if (quote) {
                if (c == quote)
                    quote = 0;
            } else if (c == '\'' || c == '"') {
                quote = c;
            } else if (c == ';') {
                return true;
            }
        }
        return false;
    }

    std::int64_t queryInt(const char *sql, std::optional<std::string> parameter)
    {
        const char *values[1] = {parameter ? parameter->c_str() : nullptr};
        auto res = checked(m_conn, PQexecParams(m_conn, sql, parameter ? 1 : 0, nullptr, values, nullptr, nullptr, 0), sql);
        if (PQntuples(res.get()) == 0 || PQgetisnull(res.get(), 0, 0))
            return 0;
        std::int64_t v = 0;
        const char *p = PQgetvalue(res.get(), 0, 0);
        std::from_chars(p, p + std::strlen(p), v);
        return v;
    }

    std::int64_t meta(const std::string &key)
    {
        if (!hasTable("unirank_meta"))
            return 0;
        return queryInt("SELECT value::bigint FROM unirank_meta WHERE key = $1", key);
    }

    void setMeta(const std::string &key, std::int64_t value)
    {
        if (!hasTable("unirank_meta"))
            exec(kPostgresPrelude);
        const std::string v = std::to_string(value);
        const char *values[2] = {key.c_str(), v.c_str()};
        const char *sql = "INSERT INTO unirank_meta (key, value) VALUES ($1, $2) "
                          "ON CONFLICT (key) DO UPDATE SET value = excluded.value";
        checked(m_conn, PQexecParams(m_conn, sql, 2, nullptr, values, nullptr, nullptr, 0), sql);
    }
};

PgStatement::~PgStatement()
{
    if (m_prepared && PQstatus(m_conn.handle()) == CONNECTION_OK)
        PQclear(PQexec(m_conn.handle(), ("DEALLOCATE " + m_name).c_str()));
}

void PgStatement::prepareOnServer()
{
    PGconn *conn = m_conn.handle();
    checked(conn, PQprepare(conn, m_name.c_str(), m_text.sql.c_str(), static_cast<int>(m_values.size()), nullptr),
            m_original);
    m_prepared = true;
}

bool PgStatement::step()
{
    if (!m_result) {
        std::vector<const char *> values(m_values.size());
        for (std::size_t i = 0; i < m_values.size(); ++i)
            values[i] = m_values[i] ? m_values[i]->c_str() : nullptr;
        PGconn *conn = m_conn.handle();
        m_result = checked(conn,
                           PQexecPrepared(conn, m_name.c_str(), static_cast<int>(values.size()), values.data(),
                                          nullptr, nullptr, 0),
                           m_original);
        m_conn.setChanges(affectedRows(m_result.get()));
        m_row = -1;
    }
    ++m_row;
    return m_row < PQntuples(m_result.get());
}

void noticeToNowhere(void *, const char *) {}

/// Connection settings UniRank uses unless the URL or the user's PG* environment sets them: a dead
/// server or a silently cut network (a laptop on the move) is noticed within about a minute instead of
/// TCP's 15 minutes (data in flight) to two hours (an idle connection), so the label writer reconnects
/// and the watcher resumes; and the server's
/// pg_stat_activity shows which sessions are UniRank's.
PGconn *connectWithDefaults(const std::string &url)
{
    static constexpr std::pair<const char *, const char *> kDefaults[] = {
        {"connect_timeout", "10"},   {"keepalives", "1"},         {"keepalives_idle", "30"},
        {"keepalives_interval", "10"}, {"keepalives_count", "3"}, {"tcp_user_timeout", "60000"},
        {"application_name", "unirank"},
    };
    PQconninfoOption *known = PQconndefaults();
    const auto setByEnvironment = [known](std::string_view keyword) {
        for (PQconninfoOption *o = known; o && o->keyword; ++o)
            if (keyword == o->keyword)
                return o->envvar && std::getenv(o->envvar);
        return false;
    };
    std::vector<const char *> keywords, values;
    for (const auto &[keyword, value] : kDefaults) {
        if (setByEnvironment(keyword))
            continue;
        keywords.push_back(keyword);
        values.push_back(value);
    }
    PQconninfoFree(known);
    // The URL comes last and is expanded in place, so whatever it sets wins over the defaults above.
    keywords.push_back("dbname");
    values.push_back(url.c_str());
    keywords.push_back(nullptr);
    values.push_back(nullptr);
    return PQconnectdbParams(keywords.data(), values.data(), /*expand_dbname=*/1);
}

} // namespace

std::unique_ptr<ConnectionImpl> openPostgres(const std::string &url, Database::Mode mode, int busyTimeoutMs)
{
    PGconn *raw = connectWithDefaults(url);
    if (!raw || PQstatus(raw) != CONNECTION_OK) {
        std::string message = raw ? PQerrorMessage(raw) : "out of memory";
        PQfinish(raw);
        while (!message.empty() && (message.back() == '\n' || message.back() == ' '))
            message.pop_back();
        const bool denied = message.find("authentication") != std::string::npos ||
                            message.find("does not exist") != std::string::npos ||
                            message.find("permission denied") != std::string::npos ||
                            message.find("invalid") != std::string::npos;
        throw StorageError(denied ? ErrorKind::BadInput : ErrorKind::Busy, 0,
                           "cannot connect to project server '" + redactedLocation(url) + "': " + message);
    }
    PQsetNoticeProcessor(raw, noticeToNowhere, nullptr);
    auto conn = std::make_unique<PgConnection>(raw);
    // An acknowledged COMMIT is on the server's disk whatever the server's default says; times are UTC.
    std::string setup = "SET synchronous_commit = on; SET TIME ZONE 'UTC'; SET client_min_messages = warning; "
                        "SET lock_timeout = " + std::to_string(std::max(1, busyTimeoutMs)) + ";";
    if (mode == Database::Mode::ReadOnly)
        setup += " SET default_transaction_read_only = on;";
    conn->exec(setup);
    return conn;
}

} // namespace unirank::storage::detail
