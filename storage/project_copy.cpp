// SPDX-License-Identifier: GPL-3.0-or-later
#include "storage/project_copy.h"

#include "storage/errors.h"
#include "storage/repo/catalog.h"

#include <nlohmann/json.hpp>

#include <array>
#include <set>

namespace fs = std::filesystem;

namespace unirank::storage {
namespace {

struct TableCopy {
    const char *name;
    const char *order; ///< the key: "id" for tables whose id the server generates
};

// Foreign keys point backwards in this list; model_versions' parent_id points to a smaller id.
constexpr TableCopy kTables[] = {
    {"collections", "id"},
    {"media", "hash"},
    {"queries", "id"},
    {"candidates", "id"},
    {"first_stage_runs", "id"},
    {"candidate_lists", "run_id, query_id, candidate_id"},
    {"annotators", "id"},
    {"graded_labels", "id"},
    {"pair_labels", "id"},
    {"pair_claims", "id"},
    {"model_versions", "id"},
    {"score_runs", "id"},
    {"scores", "score_run_id, query_id, candidate_id"},
    {"training_runs", "id"},
    {"training_metrics", "training_run_id, step, name"},
    {"audit_log", "id"},
    {"evaluations", "id"},
};

constexpr auto kTableNames = [] {
    std::array<const char *, std::size(kTables)> names{};
    for (std::size_t i = 0; i < names.size(); ++i)
        names[i] = kTables[i].name;
    return names;
}();

/// Tables of a project that are not bookkeeping of the backend.
std::set<std::string> projectTables(Database &db)
{
    const char *sql = db.backend() == Backend::SQLite
                          ? "SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'sqlite_%'"
                          : "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'unirank_meta'";
    std::set<std::string> out;
    for (auto &t : db.prepare(sql).collect([](const Statement &s) { return s.columnText(0); }))
        out.insert(std::move(t));
    return out;
}

/// Every value is bound by its own storage class, so nothing is converted on the way.
void bindValue(Statement &insert, int index, const Statement &row, int column)
{
    switch (row.columnType(column)) {
    case ColumnType::Null: insert.bind(index, nullptr); break;
    case ColumnType::Integer: insert.bind(index, row.columnInt(column)); break;
    case ColumnType::Real: insert.bind(index, row.columnDouble(column)); break;
    case ColumnType::Text: insert.bind(index, row.columnText(column)); break;
    }
}

} // namespace

std::span<const char *const> projectTablesInCopyOrder() { return kTableNames; }

Result<ProjectCopyStats> copyProject(Project &from, Project &to, const CopyProgress &progress)
{
    return capture([&] {
        auto &src = from.db();
        auto &dst = to.db();
        const SourceLocation where{redactedLocation(to.file().native())};
        if (src.userVersion() != dst.userVersion())
            throw InputError(where, "schema version " + std::to_string(dst.userVersion()) + " differs from the source's " +
                                        std::to_string(src.userVersion()));
        const std::set<std::string> known(kTableNames.begin(), kTableNames.end());
        for (const auto &t : projectTables(src))
            if (!known.contains(t))
                throw InputError(SourceLocation{redactedLocation(from.file().native())},
                                 "table '" + t + "' is unknown to this build; copy it with the version that made it");
        for (const char *t : kTableNames) {
            // A new project's audit log holds its own schema migrations: the source's history replaces them.
            const std::string filter = std::string_view(t) == "audit_log" ? " WHERE action <> 'migrate'" : "";
            if (dst.queryInt(std::string("SELECT count(*) FROM ") + t + filter).value_or(0) != 0)
                throw InputError(where, "is not empty (table '" + std::string(t) + "' has rows); copy into a new project");
        }

        ProjectCopyStats stats;
        NewMediaFiles created(to.media());
        for (const auto &m : src.prepare("SELECT rel_path FROM media ORDER BY hash").collect([](const Statement &s) {
                 return s.columnText(0);
             })) {
            const fs::path source = from.media().absolutePath(m);
            if (!fs::is_regular_file(source))
                throw InputError(SourceLocation{source.string()}, "image of the project is missing from its media folder");
            if (to.media().putFile(source, m))
                created.add(m);
        }
        to.media().syncAll(); // the files are durable before any row that names them commits

        Transaction tx(dst);
        dst.exec("DELETE FROM audit_log");
        for (const auto &[table, order] : kTables) {
            auto rows = src.prepare(std::string("SELECT * FROM ") + table + " ORDER BY " + order);
            std::optional<Statement> insert;
            std::size_t n = 0;
            while (rows.step()) {
                if (!insert) {
                    std::string sql = std::string("INSERT INTO ") + table + " VALUES (";
                    for (int c = 0; c < rows.columnCount(); ++c)
                        sql += (c ? ", ?" : "?") + std::to_string(c + 1);
                    insert.emplace(dst.prepare(sql + ")"));
                }
                for (int c = 0; c < rows.columnCount(); ++c)
                    bindValue(*insert, c + 1, rows, c);
                insert->run();
                if (++n % 1000 == 0 && progress)
                    progress(table, n);
            }
            if (dst.backend() == Backend::PostgreSQL && std::string_view(order) == "id")
                dst.exec(std::string("SELECT setval(pg_get_serial_sequence('") + table + "', 'id'), "
                         "coalesce((SELECT max(id) FROM " + table + "), 0) + 1, false)");
            if (progress)
                progress(table, n);
            stats.rows += n;
            ++stats.tables;
        }
        nlohmann::ordered_json details{{"from", redactedLocation(from.file().native())}, {"rows", stats.rows}};
        dst.prepare("INSERT INTO audit_log (actor, action, details) VALUES ('unirank', 'copy-project', ?1)")
            .bind(1, details.dump())
            .run();
        tx.commit();
        created.keep();
        stats.mediaFiles = created.count();
        return stats;
    });
}

} // namespace unirank::storage
