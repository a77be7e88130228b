// SPDX-License-Identifier: GPL-3.0-or-later
// unirank-cli migrate FROM TO [--folder DIR]: a file project to a team server, or back.
#include "cli_project.h"

#include "storage/project_copy.h"

#include <iostream>

namespace fs = std::filesystem;

namespace unirank::cli {

void addMigrateCommand(CLI::App &app)
{
    struct Args {
        std::string from, to, folder;
    };
    auto a = std::make_shared<Args>();
    auto *cmd = app.add_subcommand("migrate", "Copy a whole project, losslessly, between a file and a PostgreSQL "
                                              "server (either way): rows with their ids, labels with their history, "
                                              "images by content hash");
    cmd->add_option("FROM", a->from, "Project to copy: a *.unirank file or a postgresql:// URL")->required();
    cmd->add_option("TO", a->to,
                    "New project: a *.unirank file that does not exist yet, or an empty PostgreSQL database")
        ->required();
    cmd->add_option("--folder", a->folder, "With a server TO: the shared folder every workstation reads (images, models)");
    cmd->callback([a] {
        const bool toServer = storage::isServerLocation(a->to);
        if (!toServer && !a->folder.empty())
            throw CLI::ValidationError("--folder", "only a server project has a shared folder");
        auto from = require(storage::Project::open(a->from));
        auto to = require(storage::Project::create(a->to, a->folder));
        auto copied = storage::copyProject(*from, *to, [](std::string_view table, std::size_t rows) {
            if (rows > 0 && rows % 100000 == 0)
                std::cerr << "migrate: " << table << ": " << rows << " rows\n";
        });
        if (!copied && !toServer) {
            // The file is ours and holds nothing: take it away, so the command can simply be run again.
            to.reset();
            std::error_code ec;
            for (const auto &f : {fs::path(a->to), fs::path(a->to + "-wal"), fs::path(a->to + "-shm")})
                fs::remove(f, ec);
            fs::remove(storage::Project::mediaFolderFor(a->to), ec); // empty: a failed copy removed its files
        }
        const auto stats = require(std::move(copied));
        std::cout << "copied " << stats.rows << " rows in " << stats.tables << " tables and " << stats.mediaFiles
                  << " new images from " << storage::redactedLocation(a->from) << " to "
                  << storage::redactedLocation(a->to) << "\n";
    });
}

} // namespace unirank::cli
