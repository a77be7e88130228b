// SPDX-License-Identifier: GPL-3.0-or-later
#include "storage/project.h"

#include "storage/errors.h"
#include "storage/schema.h"

namespace fs = std::filesystem;

namespace unirank::storage {

Project::Project(fs::path file, Database db)
    : m_file(std::move(file))
    , m_db(std::move(db))
    , m_media(mediaFolderFor(m_file))
{
}

fs::path Project::mediaFolderFor(const fs::path &file)
{
    auto folder = file;
    folder.replace_extension(".media");
    return folder;
}

Result<std::unique_ptr<Project>> Project::create(const fs::path &file)
{
    return capture([&] {
        std::error_code ec;
        if (fs::exists(file, ec))
            throw InputError(SourceLocation{file.string()}, "already exists; open it instead");
        if (file.has_parent_path() && !fs::is_directory(file.parent_path(), ec))
            throw InputError(SourceLocation{file.string()}, "folder '" + file.parent_path().string() + "' does not exist");
        Database db = Database::open(file, Database::Mode::ReadWriteCreate);
        migrate(db);
        fs::create_directories(mediaFolderFor(file));
        return std::unique_ptr<Project>(new Project(file, std::move(db)));
    });
}

Result<std::unique_ptr<Project>> Project::open(const fs::path &file)
{
    auto result = capture([&] {
        std::error_code ec;
        if (!fs::is_regular_file(file, ec))
            throw InputError(SourceLocation{file.string()}, "no such project file");
        Database db = Database::open(file, Database::Mode::ReadWrite);
        migrate(db);
        fs::create_directories(mediaFolderFor(file));
        return std::unique_ptr<Project>(new Project(file, std::move(db)));
    });
    if (!result && result.error().message.find("file is not a database") != std::string::npos)
        return std::unexpected(Error{ErrorKind::BadInput, "'" + file.string() + "' is not a UniRank project"});
    return result;
}

Database Project::openConnection() const { return Database::open(m_file, Database::Mode::ReadWrite); }

} // namespace unirank::storage
