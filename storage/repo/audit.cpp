// SPDX-License-Identifier: GPL-3.0-or-later
#include "storage/repo/audit.h"

namespace unirank::storage {

void appendAudit(Database &db, const std::string &actor, const std::string &action, const std::string &entity,
                 std::optional<std::int64_t> entityId, const nlohmann::json &details)
{
    db.cached("INSERT INTO audit_log (actor, action, entity, entity_id, details) VALUES (?1, ?2, ?3, ?4, ?5)")
        .bindAll(actor, action, entity, entityId, details.dump())
        .run();
}

std::vector<AuditEntry> listAudit(Database &db, int limit)
{
    return db.cached("SELECT id, at, actor, action, entity, entity_id, details FROM audit_log ORDER BY id DESC LIMIT ?1")
        .bind(1, limit)
        .collect([](const Statement &s) {
            return AuditEntry{s.columnInt(0),  s.columnText(1),         s.columnText(2),
                              s.columnText(3), s.columnText(4),         s.columnOptionalInt(5),
                              nlohmann::json::parse(s.columnText(6))};
        });
}

} // namespace unirank::storage
