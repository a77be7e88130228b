// SPDX-License-Identifier: GPL-3.0-or-later
#include "test_backend.h"

#include "storage/db/database.h"

#include <atomic>
#include <chrono>
#include <fstream>
#include <stdexcept>
#include <thread>
#include <unistd.h>

namespace unirank::test {

bool serverBackend()
{
    const char *b = std::getenv("UNIRANK_TEST_BACKEND");
    return b && std::string(b) == "postgresql";
}

std::string serverAdminUrl()
{
    const char *file = std::getenv("UNIRANK_TEST_PG_URL_FILE");
    if (!file)
        throw std::runtime_error("UNIRANK_TEST_PG_URL_FILE is not set: run the _pg tests through CTest, which starts "
                                 "the test server (scripts/pg-server.sh)");
    std::ifstream in(file);
    std::string url;
    if (!std::getline(in, url) || url.empty())
        throw std::runtime_error(std::string("no test server URL in '") + file + "': did the pg_server fixture run?");
    return url;
}

std::string killedChildSessionName() { return "unirank-killed-child-" + std::to_string(getpid()); }

bool waitForKilledChildSessions()
{
    if (!serverBackend())
        return true;
    auto admin = storage::Database::open(serverAdminUrl());
    for (int i = 0; i < 300; ++i) {
        auto s = admin.prepare("SELECT count(*) FROM pg_stat_activity WHERE application_name = ?1");
        s.bind(1, killedChildSessionName());
        if (s.step() && s.columnInt(0) == 0)
            return true;
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    return false;
}

namespace {

std::string freshServerDatabase()
{
    static std::atomic<int> counter{0};
    const auto stamp = std::chrono::steady_clock::now().time_since_epoch().count() % 1000000000;
    const std::string name = "t_" + std::to_string(getpid()) + "_" + std::to_string(stamp) + "_" +
                             std::to_string(counter++);
    const std::string admin = serverAdminUrl();
    storage::Database::open(admin).exec("CREATE DATABASE " + name);
    const auto slash = admin.rfind('/');
    return admin.substr(0, slash + 1) + name;
}

} // namespace

Result<std::unique_ptr<storage::Project>> createProject(const std::filesystem::path &location)
{
    if (!storage::isServerLocation(location.native()))
        return storage::Project::create(location);
    const char *build = std::getenv("UNIRANK_BINARY_DIR");
    const std::filesystem::path root = build ? std::filesystem::path(build) / "test-pg" / "shared"
                                             : std::filesystem::temp_directory_path() / "unirank-test-shared";
    const auto &url = location.native();
    return storage::Project::create(location, root / url.substr(url.rfind('/') + 1));
}

std::unique_ptr<storage::Project> freshProject(const std::filesystem::path &dir, const std::string &name)
{
    auto created = createProject(newProjectLocation(dir, name));
    if (!created)
        throw std::runtime_error("cannot create a test project: " + created.error().message);
    return std::move(*created);
}

std::string scratchDatabase() { return serverBackend() ? freshServerDatabase() : std::string(":memory:"); }

std::string newProjectLocation(const std::filesystem::path &dir, const std::string &name)
{
    return serverBackend() ? freshServerDatabase() : (dir / (name + ".unirank")).string();
}

} // namespace unirank::test
