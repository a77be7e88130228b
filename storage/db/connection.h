// SPDX-License-Identifier: GPL-3.0-or-later
// Internal: what a database backend implements behind Database and Statement (database.h).
// Not part of the storage API; only storage/db/*.cpp include it.
#pragma once

#include "storage/db/database.h"

namespace unirank::storage::detail {

class StatementImpl {
public:
    virtual ~StatementImpl() = default;
    virtual void bindInt(int index, std::int64_t value) = 0;
    virtual void bindDouble(int index, double value) = 0;
    virtual void bindText(int index, std::string_view value) = 0;
    virtual void bindNull(int index) = 0;
    virtual bool step() = 0;
    virtual void reset() = 0;
    virtual bool isNull(int column) const = 0;
    virtual int columnCount() const = 0;
    virtual ColumnType columnType(int column) const = 0;
    virtual std::int64_t columnInt(int column) const = 0;
    virtual double columnDouble(int column) const = 0;
    virtual std::string columnText(int column) const = 0;
};

class ConnectionImpl {
public:
    virtual ~ConnectionImpl() = default;
    virtual Backend backend() const = 0;
    virtual void exec(std::string_view sql) = 0;
    virtual std::unique_ptr<StatementImpl> prepare(std::string_view sql) = 0;
    virtual int changes() const = 0;
    virtual int userVersion() = 0;
    virtual void setUserVersion(int version) = 0;
    virtual std::int64_t applicationId() = 0;
    virtual void setApplicationId(std::int64_t id) = 0;
    virtual std::int64_t tableCount() = 0;
    virtual bool hasTable(std::string_view name) = 0;
    virtual std::string integrityCheck() = 0;
    virtual void begin() = 0;
    virtual bool connected() const = 0;
    virtual void listen(const std::string &channel) = 0;
    virtual bool waitForChange(std::chrono::milliseconds timeout) = 0;
};

std::unique_ptr<ConnectionImpl> openSqlite(const std::filesystem::path &path, Database::Mode mode, int busyTimeoutMs);
std::unique_ptr<ConnectionImpl> openPostgres(const std::string &url, Database::Mode mode, int busyTimeoutMs);

} // namespace unirank::storage::detail
