// SPDX-License-Identifier: GPL-3.0-or-later
// unirank-cli init PROJECT | init --server URL --folder DIR
#include "cli_project.h"

#include "storage/team_roles.h"

#include <iostream>

namespace unirank::cli {

void addInitCommand(CLI::App &app)
{
    auto *cmd = app.add_subcommand("init", "Create a new, empty project: a file (*.unirank) and its media folder, "
                                           "or a team project on a PostgreSQL server");
    struct Args {
        std::string file, server, folder;
    };
    auto a = std::make_shared<Args>();
    auto *file = cmd->add_option("PROJECT", a->file, "Project file to create");
    auto *server = cmd->add_option("--server", a->server,
                                   "A team project in this PostgreSQL database (postgresql://user@host/db; the "
                                   "database must exist and be empty)");
    auto *folder = cmd->add_option("--folder", a->folder,
                                   "With --server: the shared folder every workstation reads (images, models)");
    file->excludes(server);
    folder->needs(server);
    cmd->callback([a] {
        if (a->file.empty() && a->server.empty())
            throw CLI::ValidationError("init", "give a PROJECT file or --server URL");
        if (!a->server.empty()) {
            if (!storage::isServerLocation(a->server))
                throw CLI::ValidationError("--server", "expects a postgresql:// URL");
            auto project = require(storage::Project::create(a->server, a->folder));
            std::cout << "created a team project on " << storage::redactedLocation(a->server) << " (images in "
                      << project->media().root().string() << ")\n";
            if (const auto roles = storage::setUpTeamRoles(project->db()); !roles)
                std::cerr << "init: the team roles were not created (" << roles.error().message
                          << "); an administrator with CREATEROLE runs `unirank-cli team URL setup`\n";
            return;
        }
        auto project = require(storage::Project::create(a->file));
        std::cout << "created " << project->file().string() << " (media in " << project->media().root().string()
                  << ")\n";
    });
}

} // namespace unirank::cli
