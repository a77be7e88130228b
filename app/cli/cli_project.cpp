// SPDX-License-Identifier: GPL-3.0-or-later
#include "cli_project.h"

namespace unirank::cli {

std::unique_ptr<storage::Project> openProject(const std::string &file)
{
    return require(storage::Project::open(file));
}

} // namespace unirank::cli
