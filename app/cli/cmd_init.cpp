// SPDX-License-Identifier: GPL-3.0-or-later
// unirank-cli init PROJECT
#include "cli_project.h"

#include <iostream>

namespace unirank::cli {

void addInitCommand(CLI::App &app)
{
    auto *cmd = app.add_subcommand("init", "Create a new, empty project file (*.unirank) and its media folder");
    auto file = std::make_shared<std::string>();
    cmd->add_option("PROJECT", *file, "Project file to create")->required();
    cmd->callback([file] {
        auto project = require(storage::Project::create(*file));
        std::cout << "created " << project->file().string() << " (media in "
                  << storage::Project::mediaFolderFor(project->file()).string() << ")\n";
    });
}

} // namespace unirank::cli
