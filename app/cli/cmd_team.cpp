// SPDX-License-Identifier: GPL-3.0-or-later
// unirank-cli team URL (setup | list | add USER --role R [--password-file F] | remove USER --role R)
#include "cli_project.h"

#include "storage/team_roles.h"

#include <fstream>
#include <iostream>

namespace unirank::cli {

void addTeamCommand(CLI::App &app)
{
    struct Args {
        std::string project, user, role = "annotator", passwordFile;
    };
    auto a = std::make_shared<Args>();
    auto *cmd = app.add_subcommand("team", "Who may label, import and train in a team project (PostgreSQL roles; "
                                           "run by the database owner)");
    cmd->add_option("PROJECT", a->project, "The team project (postgresql://owner@host/db)")->required();
    cmd->require_subcommand(1);
    const auto roleOption = [&](CLI::App *sub) {
        sub->add_option("USER", a->user, "The analyst's database login")->required();
        sub->add_option("--role", a->role, "annotator (label), curator (also import, delete), trainer (also train)")
            ->check(CLI::IsMember({"annotator", "curator", "trainer"}));
    };
    auto *setup = cmd->add_subcommand("setup", "Create the project's roles and rules (init --server does it when it may)");
    auto *list = cmd->add_subcommand("list", "The analysts and their roles");
    auto *add = cmd->add_subcommand("add", "Give an analyst a role (creates the login when missing)");
    roleOption(add);
    add->add_option("--password-file", a->passwordFile, "A file whose first line is the new login's password");
    auto *remove = cmd->add_subcommand("remove", "Take a role from an analyst");
    roleOption(remove);

    setup->callback([a] {
        auto project = openProject(a->project);
        require(storage::setUpTeamRoles(project->db()));
        std::cout << "team roles ready: " << project->db().prepare("SELECT current_database()").first([](const storage::Statement &s) {
            return s.columnText(0);
        }).value_or("") << "_{annotator,curator,trainer}\n";
    });
    list->callback([a] {
        auto project = openProject(a->project);
        for (const auto &m : require(storage::listTeam(project->db()))) {
            std::cout << m.user << "\t";
            for (std::size_t i = 0; i < m.roles.size(); ++i)
                std::cout << (i ? "," : "") << m.roles[i];
            std::cout << "\n";
        }
    });
    add->callback([a] {
        auto project = openProject(a->project);
        std::optional<std::string> password;
        if (!a->passwordFile.empty()) {
            std::ifstream in(a->passwordFile);
            std::string line;
            if (!std::getline(in, line) || line.empty())
                throw CLI::ValidationError("--password-file", "'" + a->passwordFile + "' has no password on its first line");
            password = line;
        }
        require(storage::grantTeamRole(project->db(), a->user, *storage::teamRoleFromString(a->role), password));
        std::cout << a->user << " is now " << a->role << "\n";
    });
    remove->callback([a] {
        auto project = openProject(a->project);
        require(storage::revokeTeamRole(project->db(), a->user, *storage::teamRoleFromString(a->role)));
        std::cout << a->user << " is no longer " << a->role << "\n";
    });
}

} // namespace unirank::cli
