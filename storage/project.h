// SPDX-License-Identifier: GPL-3.0-or-later
// A UniRank project: one SQLite file (*.unirank) and a media folder beside it (<name>.media/), or,
// for a team, a database on a PostgreSQL server (a `postgresql://` location) and a shared folder
// that every analyst's workstation can read (its images in <folder>/media, by content hash).
//
//   auto project = Project::create("study.unirank");   // or Project::open(...)
//   auto team = Project::create("postgresql://analyst@db.example.org/patents", "/mnt/share/patents");
//   importDataset(*project, "clipart-hybrid/dev", {});
//
// A server project records its shared folder on the server (unirank_meta); a workstation that mounts
// the share elsewhere sets UNIRANK_PROJECT_FOLDER.
//
// Threading: a Project owns one connection and is used by one thread at a time. Other threads (the
// label writer, a scoring worker) open their own connection with Project::openConnection().
// Errors: create/open return Result (BadInput: not a project, newer schema, missing file, a server
// database that holds other tables; Busy: locked or server unreachable).
#pragma once

#include "core/util/error.h"
#include "storage/media_store.h"
#include "storage/db/database.h"

#include <filesystem>
#include <memory>
#include <optional>
#include <string>

namespace unirank::storage {

class Project {
public:
    /// Creates a new, empty project; fails if the file exists. A server location needs `sharedFolder`
    /// (created if missing) and an existing database without tables.
    static Result<std::unique_ptr<Project>> create(const std::filesystem::path &location,
                                                   const std::filesystem::path &sharedFolder = {});
    /// Opens an existing project and applies pending migrations.
    static Result<std::unique_ptr<Project>> open(const std::filesystem::path &location);

    Project(const Project &) = delete;
    Project &operator=(const Project &) = delete;

    /// The location: a file path, or a server URL (may hold a password: print redactedLocation()).
    const std::filesystem::path &file() const { return m_file; }
    bool onServer() const { return isServerLocation(m_file.native()); }
    Database &db() { return m_db; }
    const MediaStore &media() const { return m_media; }

    /// A new connection to the same project, for another thread.
    Database openConnection() const;

    /// A folder that belongs to the project, for `kind` "models" (trained adapters) or "cache" (image
    /// embeddings): <name>.<kind> beside a project file, <shared folder>/<kind> for a server project.
    std::filesystem::path sideFolder(const std::string &kind) const;
    /// sideFolder for a location not opened yet: a file's, or nullopt for a server (ask the project).
    static std::optional<std::filesystem::path> fileSideFolder(const std::filesystem::path &file, const std::string &kind);

    /// The media folder of a project file (<name>.media beside it).
    static std::filesystem::path mediaFolderFor(const std::filesystem::path &file);

private:
    Project(std::filesystem::path file, Database db, std::filesystem::path mediaRoot);

    std::filesystem::path m_file;
    Database m_db;
    MediaStore m_media;
};

} // namespace unirank::storage
