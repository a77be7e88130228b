// SPDX-License-Identifier: GPL-3.0-or-later
// Append-only audit log: who did what to which entity, when.
#pragma once

#include "storage/db/database.h"

#include <nlohmann/json.hpp>

#include <optional>
#include <string>
#include <vector>

namespace unirank::storage {

struct AuditEntry {
    std::int64_t id = 0;
    std::string at;
    std::string actor;  ///< annotator name, "cli", "gui", "unirank" (migrations)
    std::string action; ///< "import", "label", "undo", "export", ...
    std::string entity; ///< table name or ""
    std::optional<std::int64_t> entityId;
    nlohmann::json details = nlohmann::json::object();
};

void appendAudit(Database &db, const std::string &actor, const std::string &action, const std::string &entity = {},
                 std::optional<std::int64_t> entityId = std::nullopt,
                 const nlohmann::json &details = nlohmann::json::object());
/// Newest first.
std::vector<AuditEntry> listAudit(Database &db, int limit = 100);

} // namespace unirank::storage
