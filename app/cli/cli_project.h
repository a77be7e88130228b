// SPDX-License-Identifier: GPL-3.0-or-later
// Opening a project for the project commands (import, export, stats).
#pragma once

#include "cli_common.h"
#include "storage/project.h"

#include <memory>

namespace unirank::cli {

std::unique_ptr<storage::Project> openProject(const std::string &file);

} // namespace unirank::cli
