// SPDX-License-Identifier: GPL-3.0-or-later
// Which database backend a storage test runs on. CTest registers each storage test twice: `test_x`
// on SQLite and `test_x_pg` with UNIRANK_TEST_BACKEND=postgresql on the server that the `pg_server`
// fixture starts (scripts/pg-server.sh; its admin URL in the file UNIRANK_TEST_PG_URL_FILE).
// A test asks here for its databases and never names a backend itself. A server run whose server
// cannot be reached fails (throws); it is never skipped.
#pragma once

#include "storage/project.h"

#include <filesystem>
#include <memory>
#include <string>

namespace unirank::test {

/// True when this run uses the PostgreSQL backend.
bool serverBackend();
/// A new, empty database that lives as long as the test run: ":memory:" on SQLite, a fresh database
/// on the test server otherwise.
std::string scratchDatabase();
/// A location for a new project: `dir/name.unirank` on SQLite, a fresh database's URL on the server.
std::string newProjectLocation(const std::filesystem::path &dir, const std::string &name);
/// Project::create at `location`; on the server with a shared folder of its own under the build tree.
Result<std::unique_ptr<storage::Project>> createProject(const std::filesystem::path &location);
/// newProjectLocation + createProject, for a test that needs nothing but a fresh project.
std::unique_ptr<storage::Project> freshProject(const std::filesystem::path &dir, const std::string &name);

/// The test server's admin URL (the `postgres` role on the `postgres` database); throws without one.
std::string serverAdminUrl();

/// The session name (PGAPPNAME) a test gives the child processes it kills; one per test process, so
/// tests running side by side do not wait for each other's children.
std::string killedChildSessionName();
/// On the server, a killed client's sessions live on for a moment: a COMMIT sent before the kill may
/// still complete, anything else is rolled back. Waits (up to 30 s) until no session named
/// killedChildSessionName() is left, so checks see the final state; false if they never end. On
/// SQLite a killed process leaves nothing running: true at once.
bool waitForKilledChildSessions();

} // namespace unirank::test
