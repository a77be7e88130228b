// SPDX-License-Identifier: GPL-3.0-or-later
#include "storage/team_roles.h"

#include "storage/errors.h"

#include <array>
#include <map>

namespace unirank::storage {
namespace {

constexpr std::array kRoles{TeamRole::Annotator, TeamRole::Curator, TeamRole::Trainer};

std::string quoteIdent(const std::string &name)
{
    std::string out = "\"";
    for (const char c : name)
        out += c == '"' ? std::string("\"\"") : std::string(1, c);
    return out + "\"";
}

std::string quoteLiteral(const std::string &text)
{
    std::string out = "'";
    for (const char c : text)
        out += c == '\'' ? std::string("''") : std::string(1, c);
    return out + "'";
}

void requireServer(Database &db)
{
    if (db.backend() != Backend::PostgreSQL)
        throw InputError(SourceLocation{db.path().string()}, "roles exist only in a team project on a server; a "
                                                             "project file is one analyst's (migrate it to a server first)");
}

void checkUserName(const std::string &user)
{
    const SourceLocation where{"", 0, "user"};
    if (user.empty() || user.size() > 63)
        throw InputError(where, "a user name must be 1-63 bytes");
    if (user.starts_with("pg_"))
        throw InputError(where, "'" + user + "': names starting with pg_ are reserved by PostgreSQL");
    for (const unsigned char c : user)
        if (c <= 0x20 || c == 0x7F || c == '"')
            throw InputError(where, "'" + user + "' must not contain whitespace, quotes or control characters");
}

std::string queryText(Database &db, const char *sql)
{
    return db.prepare(sql).first([](const Statement &s) { return s.columnText(0); }).value_or("");
}

std::string groupName(Database &db, TeamRole role)
{
    return queryText(db, "SELECT current_database()") + "_" + std::string(toString(role));
}

bool roleExists(Database &db, const std::string &name)
{
    return db.prepare("SELECT count(*) FROM pg_roles WHERE rolname = ?1").bind(1, name).first([](const Statement &s) {
        return s.columnInt(0);
    }) > 0;
}

} // namespace

std::string_view toString(TeamRole role)
{
    switch (role) {
    case TeamRole::Annotator: return "annotator";
    case TeamRole::Curator: return "curator";
    case TeamRole::Trainer: return "trainer";
    }
    return "annotator";
}

std::optional<TeamRole> teamRoleFromString(std::string_view text)
{
    for (const auto role : kRoles)
        if (toString(role) == text)
            return role;
    return std::nullopt;
}

Result<void> setUpTeamRoles(Database &db)
{
    return capture([&] {
        requireServer(db);
        std::map<TeamRole, std::string> g;
        for (const auto role : kRoles)
            g[role] = quoteIdent(groupName(db, role));
        const auto database = quoteIdent(queryText(db, "SELECT current_database()"));
        const auto schema = quoteIdent(queryText(db, "SELECT current_schema()"));
        Transaction tx(db);
        for (const auto role : kRoles)
            if (!roleExists(db, groupName(db, role)))
                db.exec("CREATE ROLE " + g[role] + " NOLOGIN");
        const std::string all = g[TeamRole::Annotator] + ", " + g[TeamRole::Curator] + ", " + g[TeamRole::Trainer];
        const std::string a = g[TeamRole::Annotator], c = g[TeamRole::Curator], t = g[TeamRole::Trainer];
        db.exec("GRANT CONNECT ON DATABASE " + database + " TO " + all + "; "
                "GRANT USAGE ON SCHEMA " + schema + " TO " + all + "; "
                "GRANT SELECT ON ALL TABLES IN SCHEMA " + schema + " TO " + all + "; "
                "GRANT USAGE ON ALL SEQUENCES IN SCHEMA " + schema + " TO " + all + "; "
                // labelling: own labels, own undo, own pair claims
                "GRANT INSERT ON annotators, graded_labels, pair_labels, pair_claims, audit_log TO " + all + "; "
                "GRANT UPDATE (retracted_at) ON graded_labels, pair_labels TO " + all + "; "
                "GRANT UPDATE (closed_at) ON pair_claims TO " + all + "; "
                // curation: imports and deletions
                "GRANT INSERT ON collections, media, queries, candidates, first_stage_runs, candidate_lists TO " + c + "; "
                "GRANT DELETE ON collections TO " + c + "; "
                // training: versions, runs, scores, evaluations
                "GRANT INSERT ON model_versions, score_runs, scores, training_runs, training_metrics, evaluations TO " + t + "; "
                "GRANT UPDATE ON training_runs TO " + t + "; "
                "GRANT UPDATE (value) ON training_metrics TO " + t + ";"); // a metric's upsert
        const std::string me = "(SELECT id FROM annotators WHERE name = current_user)";
        const auto policies = [&](const std::string &table, const std::string &own, const std::string &ownUpdate,
                                  const std::string &trainerCheck) {
            db.exec("ALTER TABLE " + table + " ENABLE ROW LEVEL SECURITY; "
                    "DROP POLICY IF EXISTS unirank_read ON " + table + "; "
                    "DROP POLICY IF EXISTS unirank_own_insert ON " + table + "; "
                    "DROP POLICY IF EXISTS unirank_own_update ON " + table + "; "
                    "DROP POLICY IF EXISTS unirank_curator ON " + table + "; "
                    "DROP POLICY IF EXISTS unirank_trainer ON " + table + "; "
                    "CREATE POLICY unirank_read ON " + table + " FOR SELECT USING (true); "
                    "CREATE POLICY unirank_own_insert ON " + table + " FOR INSERT TO " + all + " WITH CHECK (" + own + "); "
                    "CREATE POLICY unirank_own_update ON " + table + " FOR UPDATE TO " + all + " USING (" + ownUpdate +
                    ") WITH CHECK (" + ownUpdate + "); "
                    "CREATE POLICY unirank_curator ON " + table + " FOR ALL TO " + c + " USING (true) WITH CHECK (true); "
                    "CREATE POLICY unirank_trainer ON " + table + " FOR INSERT TO " + t + " WITH CHECK (" + trainerCheck + ");");
        };
        policies("annotators", "name = current_user", "false", "false");
        policies("graded_labels", "annotator_id = " + me, "annotator_id = " + me, "false");
        policies("pair_labels", "annotator_id = " + me, "annotator_id = " + me, "annotator_id IS NULL");
        // A claim of someone else's that has expired may be closed by anyone (claimPair does).
        policies("pair_claims", "annotator_id = " + me, "annotator_id = " + me + " OR expires_at < unirank_now()", "false");
        tx.commit();
    });
}

Result<void> grantTeamRole(Database &db, const std::string &user, TeamRole role, const std::optional<std::string> &password)
{
    return capture([&] {
        requireServer(db);
        checkUserName(user);
        const auto group = groupName(db, role);
        if (!roleExists(db, group))
            throw InputError(SourceLocation{redactedLocation(db.path().native())},
                             "the project has no team roles yet; run `unirank-cli team URL setup` as its owner");
        if (!roleExists(db, user))
            db.exec("CREATE ROLE " + quoteIdent(user) + " LOGIN" + (password ? " PASSWORD " + quoteLiteral(*password) : ""));
        else if (password)
            db.exec("ALTER ROLE " + quoteIdent(user) + " PASSWORD " + quoteLiteral(*password));
        db.exec("GRANT " + quoteIdent(group) + " TO " + quoteIdent(user));
    });
}

Result<void> revokeTeamRole(Database &db, const std::string &user, TeamRole role)
{
    return capture([&] {
        requireServer(db);
        checkUserName(user);
        db.exec("REVOKE " + quoteIdent(groupName(db, role)) + " FROM " + quoteIdent(user));
    });
}

Result<std::vector<TeamMember>> listTeam(Database &db)
{
    return capture([&] {
        requireServer(db);
        std::map<std::string, std::vector<std::string>> members;
        for (const auto role : kRoles) {
            auto s = db.prepare("SELECT m.rolname FROM pg_auth_members am JOIN pg_roles g ON g.oid = am.roleid "
                                "JOIN pg_roles m ON m.oid = am.member WHERE g.rolname = ?1 ORDER BY 1");
            for (const auto &name : s.bind(1, groupName(db, role)).collect([](const Statement &r) { return r.columnText(0); }))
                members[name].emplace_back(toString(role));
        }
        std::vector<TeamMember> out;
        for (auto &[user, roles] : members)
            out.push_back({user, std::move(roles)});
        return out;
    });
}

} // namespace unirank::storage
