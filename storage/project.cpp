// SPDX-License-Identifier: GPL-3.0-or-later
#include "storage/project.h"

#include "storage/errors.h"
#include "storage/schema.h"

namespace fs = std::filesystem;

namespace unirank::storage {
namespace {

constexpr const char *kFolderKey = "project_folder";

/// The shared folder of a server project: UNIRANK_PROJECT_FOLDER, else what init recorded.
fs::path serverFolder(Database &db)
{
    if (const char *own = std::getenv("UNIRANK_PROJECT_FOLDER"); own && *own)
        return own;
    auto folder = db.prepare("SELECT value FROM unirank_meta WHERE key = ?1").bind(1, kFolderKey).first(
        [](const Statement &s) { return s.columnText(0); });
    if (!folder || folder->empty())
        throw InputError(SourceLocation{redactedLocation(db.path().native())},
                         "the server project records no shared folder; set UNIRANK_PROJECT_FOLDER");
    return *folder;
}

} // namespace

Project::Project(fs::path file, Database db, fs::path mediaRoot)
    : m_file(std::move(file))
    , m_db(std::move(db))
    , m_media(std::move(mediaRoot))
{
}

fs::path Project::mediaFolderFor(const fs::path &file)
{
    auto folder = file;
    folder.replace_extension(".media");
    return folder;
}

std::filesystem::path Project::sideFolder(const std::string &kind) const
{
    if (onServer())
        return m_media.root().parent_path() / kind;
    return *fileSideFolder(m_file, kind);
}

std::optional<fs::path> Project::fileSideFolder(const fs::path &file, const std::string &kind)
{
    if (isServerLocation(file.native()))
        return std::nullopt;
    return fs::absolute(file).parent_path() / (file.stem().string() + "." + kind);
}

Result<std::unique_ptr<Project>> Project::create(const fs::path &location, const fs::path &sharedFolder)
{
    return capture([&] {
        std::error_code ec;
        if (isServerLocation(location.native())) {
            const SourceLocation where{redactedLocation(location.native())};
            if (sharedFolder.empty())
                throw InputError(where, "a server project needs a shared folder for its images and models "
                                        "(unirank-cli init --server URL --folder DIR)");
            Database db = Database::open(location, Database::Mode::ReadWrite);
            if (db.tableCount() != 0)
                throw InputError(where, "the database already holds tables; open the project instead, or "
                                        "create an empty database (createdb) for a new one");
            const fs::path folder = fs::absolute(sharedFolder);
            fs::create_directories(folder / "media");
            migrate(db); // each migration in its own transaction, as for a file
            db.prepare("INSERT INTO unirank_meta (key, value) VALUES (?1, ?2)").bindAll(kFolderKey, folder.string()).run();
            return std::unique_ptr<Project>(new Project(location, std::move(db), folder / "media"));
        }
        if (fs::exists(location, ec))
            throw InputError(SourceLocation{location.string()}, "already exists; open it instead");
        if (location.has_parent_path() && !fs::is_directory(location.parent_path(), ec))
            throw InputError(SourceLocation{location.string()}, "folder '" + location.parent_path().string() + "' does not exist");
        Database db = Database::open(location, Database::Mode::ReadWriteCreate);
        migrate(db);
        fs::create_directories(mediaFolderFor(location));
        return std::unique_ptr<Project>(new Project(location, std::move(db), mediaFolderFor(location)));
    });
}

Result<std::unique_ptr<Project>> Project::open(const fs::path &location)
{
    if (isServerLocation(location.native()))
        return capture([&] {
            Database db = Database::open(location, Database::Mode::ReadWrite);
            if (db.userVersion() == 0)
                throw InputError(SourceLocation{redactedLocation(location.native())},
                                 "is not a UniRank project (create one with unirank-cli init --server)");
            migrate(db);
            const fs::path folder = serverFolder(db);
            fs::create_directories(folder / "media");
            return std::unique_ptr<Project>(new Project(location, std::move(db), folder / "media"));
        });
    auto result = capture([&] {
        std::error_code ec;
        if (!fs::is_regular_file(location, ec))
            throw InputError(SourceLocation{location.string()}, "no such project file");
        Database db = Database::open(location, Database::Mode::ReadWrite);
        migrate(db);
        fs::create_directories(mediaFolderFor(location));
        return std::unique_ptr<Project>(new Project(location, std::move(db), mediaFolderFor(location)));
    });
    if (!result && result.error().message.find("file is not a database") != std::string::npos)
        return std::unexpected(Error{ErrorKind::BadInput, "'" + location.string() + "' is not a UniRank project"});
    return result;
}

Database Project::openConnection() const { return Database::open(m_file, Database::Mode::ReadWrite); }

} // namespace unirank::storage
