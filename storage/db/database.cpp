// SPDX-License-Identifier: GPL-3.0-or-later
#include "storage/db/database.h"

#include "storage/db/connection.h"
#include "storage/db/pg_sql.h"

namespace unirank::storage {

bool isServerLocation(std::string_view location)
{
    return location.starts_with("postgresql://") || location.starts_with("postgres://");
}

std::string redactedLocation(std::string_view location)
{
    std::string out(location);
    if (!isServerLocation(location))
        return out;
    // postgresql://user:password@host/db?password=...: hide both spellings.
    const auto scheme = out.find("://") + 3;
    const auto at = out.find('@', scheme);
    const auto slash = out.find('/', scheme);
    if (at != std::string::npos && (slash == std::string::npos || at < slash)) {
        const auto colon = out.find(':', scheme);
        if (colon != std::string::npos && colon < at)
            out.replace(colon + 1, at - colon - 1, "***");
    }
    for (auto p = out.find("password="); p != std::string::npos; p = out.find("password=", p + 1)) {
        const auto end = out.find('&', p);
        out.replace(p + 9, (end == std::string::npos ? out.size() : end) - p - 9, "***");
    }
    return out;
}

StorageError::StorageError(ErrorKind kind, int code, const std::string &message, bool constraint)
    : std::runtime_error(message)
    , m_kind(kind)
    , m_code(code)
    , m_constraint(constraint)
{
}

// --- Statement -------------------------------------------------------------------------------

Statement::Statement(std::unique_ptr<detail::StatementImpl> impl)
    : m_impl(std::move(impl))
{
}
Statement::Statement(Statement &&other) noexcept = default;
Statement &Statement::operator=(Statement &&other) noexcept = default;
Statement::~Statement() = default;

Statement &Statement::bind(int index, std::int64_t value)
{
    m_impl->bindInt(index, value);
    return *this;
}

Statement &Statement::bind(int index, double value)
{
    m_impl->bindDouble(index, value);
    return *this;
}

Statement &Statement::bind(int index, std::string_view value)
{
    m_impl->bindText(index, value);
    return *this;
}

Statement &Statement::bind(int index, std::nullptr_t)
{
    m_impl->bindNull(index);
    return *this;
}

bool Statement::step() { return m_impl->step(); }

void Statement::run()
{
    while (step()) {
    }
    reset();
}

std::int64_t Statement::runReturningId()
{
    if (!step())
        throw StorageError(ErrorKind::Internal, 0, "an INSERT ... RETURNING returned no row");
    const auto id = columnInt(0);
    while (step()) {
    }
    reset();
    return id;
}

void Statement::reset() { m_impl->reset(); }
bool Statement::isNull(int column) const { return m_impl->isNull(column); }
int Statement::columnCount() const { return m_impl->columnCount(); }
ColumnType Statement::columnType(int column) const { return m_impl->columnType(column); }
std::int64_t Statement::columnInt(int column) const { return m_impl->columnInt(column); }
double Statement::columnDouble(int column) const { return m_impl->columnDouble(column); }
std::string Statement::columnText(int column) const { return m_impl->columnText(column); }

std::optional<std::int64_t> Statement::columnOptionalInt(int column) const
{
    return isNull(column) ? std::nullopt : std::optional(columnInt(column));
}

std::optional<std::string> Statement::columnOptionalText(int column) const
{
    return isNull(column) ? std::nullopt : std::optional(columnText(column));
}

// --- Database --------------------------------------------------------------------------------

Database::Database(std::unique_ptr<detail::ConnectionImpl> impl, std::filesystem::path path)
    : m_impl(std::move(impl))
    , m_path(std::move(path))
{
}

Database::Database(Database &&other) noexcept = default;

Database &Database::operator=(Database &&other) noexcept
{
    if (this != &other) {
        m_cache.clear(); // statements before the connection
        m_impl = std::move(other.m_impl);
        m_path = std::move(other.m_path);
        m_cache = std::move(other.m_cache);
    }
    return *this;
}

Database::~Database() { m_cache.clear(); }

Database Database::open(const std::filesystem::path &location, Mode mode, int busyTimeoutMs)
{
    if (isServerLocation(location.native()))
        return Database(detail::openPostgres(location.native(), mode, busyTimeoutMs), location);
    return Database(detail::openSqlite(location, mode, busyTimeoutMs), location);
}

Backend Database::backend() const { return m_impl->backend(); }
void Database::exec(std::string_view sql) { m_impl->exec(sql); }

void Database::execSchema(std::string_view ddl)
{
    if (backend() == Backend::PostgreSQL)
        m_impl->exec(detail::toPostgresSchema(ddl));
    else
        m_impl->exec(ddl);
}
Statement Database::prepare(std::string_view sql) { return Statement(m_impl->prepare(sql)); }

Statement &Database::cached(std::string_view sql)
{
    auto it = m_cache.find(sql);
    if (it == m_cache.end())
        it = m_cache.emplace(std::string(sql), std::make_unique<Statement>(m_impl->prepare(sql))).first;
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

int Database::userVersion() { return m_impl->userVersion(); }
void Database::setUserVersion(int version) { m_impl->setUserVersion(version); }
std::int64_t Database::applicationId() { return m_impl->applicationId(); }
void Database::setApplicationId(std::int64_t id) { m_impl->setApplicationId(id); }
std::int64_t Database::tableCount() { return m_impl->tableCount(); }
bool Database::hasTable(std::string_view name) { return m_impl->hasTable(name); }
int Database::changes() const { return m_impl->changes(); }
std::string Database::integrityCheck() { return m_impl->integrityCheck(); }
void Database::begin() { m_impl->begin(); }
bool Database::connected() const { return m_impl->connected(); }
void Database::listen(const std::string &channel) { m_impl->listen(channel); }
bool Database::waitForChange(std::chrono::milliseconds timeout) { return m_impl->waitForChange(timeout); }

// --- Transaction -----------------------------------------------------------------------------

Transaction::Transaction(Database &db)
    : m_db(db)
{
    m_db.begin();
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
