// SPDX-License-Identifier: GPL-3.0-or-later
// unirank-cli stats PROJECT [--json]
#include "cli_project.h"

#include "storage/stats.h"

#include <iostream>

namespace unirank::cli {

void addStatsCommand(CLI::App &app)
{
    auto file = std::make_shared<std::string>();
    auto json = std::make_shared<bool>(false);
    auto *cmd = app.add_subcommand("stats", "Show what a project holds");
    cmd->add_option("PROJECT", *file, "Project file")->required();
    cmd->add_flag("--json", *json, "Print every number as JSON");
    cmd->callback([file, json] {
        auto project = openProject(*file);
        const auto stats = require(storage::projectStats(project->db()));
        if (*json)
            std::cout << stats.toJson().dump(2) << "\n";
        else
            std::cout << stats.toText();
    });
}

} // namespace unirank::cli
