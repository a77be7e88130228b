// SPDX-License-Identifier: GPL-3.0-or-later
// Who may do what in a team project, enforced by the PostgreSQL server (not only by the GUI).
//
// Each server project has three group roles, named after its database: <db>_annotator (label, undo
// their own labels, claim pairs), <db>_curator (also import collections, delete them, write anyone's
// labels: imports and corrections) and <db>_trainer (also publish model versions, score runs, training
// runs and evaluations). Everybody in a group reads the whole project. The database owner (who ran
// `init --server`) does everything and manages the team. An analyst is a login role; their labels carry
// their role name as annotator, and row-level security makes the server refuse a label, an undo or a
// pair claim in anyone else's name.
//
//   setUpTeamRoles(db);                         // once, by the owner (init --server does it)
//   grantTeamRole(db, "alice", TeamRole::Annotator, password);
//
// Threading: the caller's connection. Errors: Result (BadInput: not a server project, a bad name, not
// allowed; Busy).
#pragma once

#include "core/util/error.h"
#include "storage/db/database.h"

#include <optional>
#include <string>
#include <vector>

namespace unirank::storage {

enum class TeamRole { Annotator, Curator, Trainer };
std::string_view toString(TeamRole role);
std::optional<TeamRole> teamRoleFromString(std::string_view text);

/// Creates the project's group roles, grants and row-level security policies. Idempotent; run by the
/// database owner (again after a schema migration adds tables).
Result<void> setUpTeamRoles(Database &db);

/// Creates the login role `user` when missing (with `password` if given) and adds it to the group.
Result<void> grantTeamRole(Database &db, const std::string &user, TeamRole role,
                           const std::optional<std::string> &password = std::nullopt);
Result<void> revokeTeamRole(Database &db, const std::string &user, TeamRole role);

struct TeamMember {
    std::string user;
    std::vector<std::string> roles; ///< "annotator", "curator", "trainer"
};
Result<std::vector<TeamMember>> listTeam(Database &db);

} // namespace unirank::storage
