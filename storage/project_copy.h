// SPDX-License-Identifier: GPL-3.0-or-later
// Copies a whole project between backends (`unirank-cli migrate`): a file project to a team server
// and back, losslessly. Every row keeps its id and every value its storage class (integers, doubles
// bit for bit, text byte for byte, NULL), so every export of the copy is byte-identical to the
// source's. Images are copied into the destination's media folder by content hash.
//
// The destination must be a new, empty project at the same schema version; its audit log (its own
// schema migrations) is replaced by the source's, and one 'copy-project' entry naming the source is
// appended (the only row that differs from the source). The rows are written in
// one transaction; the new image files are made durable before it commits and removed if it fails,
// so a failed copy leaves the destination as empty as it was.
//
// Threading: the caller's thread; both projects are used by it alone. Errors: Result (BadInput: the
// destination is not empty, or the source holds a table this build does not know; Busy; Internal).
#pragma once

#include "storage/project.h"

#include <cstddef>
#include <functional>
#include <span>
#include <string_view>

namespace unirank::storage {

struct ProjectCopyStats {
    std::size_t tables = 0;
    std::size_t rows = 0;
    std::size_t mediaFiles = 0; ///< files new to the destination's media folder
};

/// Called per table: (table, rows copied so far in it).
using CopyProgress = std::function<void(std::string_view table, std::size_t rows)>;

Result<ProjectCopyStats> copyProject(Project &from, Project &to, const CopyProgress &progress = {});

/// The project's tables in the order copyProject writes them (parents before children).
std::span<const char *const> projectTablesInCopyOrder();

} // namespace unirank::storage
