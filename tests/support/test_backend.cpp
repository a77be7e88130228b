// SPDX-License-Identifier: GPL-3.0-or-later
#include "test_backend.h"

#include "storage/db/database.h"

#include <atomic>
#include <chrono>
#include <fstream>
#include <stdexcept>
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

std::string scratchDatabase() { return serverBackend() ? freshServerDatabase() : std::string(":memory:"); }

std::string newProjectLocation(const std::filesystem::path &dir, const std::string &name)
{
    return serverBackend() ? freshServerDatabase() : (dir / (name + ".unirank")).string();
}

} // namespace unirank::test
