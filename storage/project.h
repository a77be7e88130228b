// SPDX-License-Identifier: GPL-3.0-or-later
// A UniRank project: one SQLite file (*.unirank) and a media folder beside it (<name>.media/).
//
//   auto project = Project::create("study.unirank");   // or Project::open(...)
//   importDataset(*project, "clipart-hybrid/dev", {});
//
// Threading: a Project owns one connection and is used by one thread at a time. Other threads (the
// label writer, a scoring worker) open their own connection with Project::openConnection().
// Errors: create/open return Result (BadInput: not a project, newer schema, missing file; Busy: locked).
#pragma once

#include "core/util/error.h"
#include "storage/media_store.h"
#include "storage/sqlite/database.h"

#include <filesystem>
#include <memory>

namespace unirank::storage {

class Project {
public:
    /// Creates a new, empty project; fails if the file exists.
    static Result<std::unique_ptr<Project>> create(const std::filesystem::path &file);
    /// Opens an existing project and applies pending migrations.
    static Result<std::unique_ptr<Project>> open(const std::filesystem::path &file);

    Project(const Project &) = delete;
    Project &operator=(const Project &) = delete;

    const std::filesystem::path &file() const { return m_file; }
    Database &db() { return m_db; }
    const MediaStore &media() const { return m_media; }

    /// A new connection to the same file, for another thread.
    Database openConnection() const;

    static std::filesystem::path mediaFolderFor(const std::filesystem::path &file);

private:
    Project(std::filesystem::path file, Database db);

    std::filesystem::path m_file;
    Database m_db;
    MediaStore m_media;
};

} // namespace unirank::storage
