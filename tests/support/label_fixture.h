// SPDX-License-Identifier: GPL-3.0-or-later
// A project with one query and two text candidates, for tests of label writing (storage and ui).
// Header-only: it needs the storage library, which not every test links.
#pragma once

#include "storage/project.h"
#include "storage/repo/catalog.h"
#include "test_backend.h"

#include <filesystem>

namespace unirank::test {

struct LabelFixture {
    std::int64_t query = 0, a = 0, b = 0;
};

/// Creates `file` (a new project: a path or, on the server backend, a URL; see test_backend.h) with
/// query "q" and candidates "a" and "b".
inline LabelFixture makeLabelProject(const std::filesystem::path &file)
{
    auto project = std::move(createProject(file).value());
    auto &db = project->db();
    const auto c = storage::insertCollection(db, "c", "", "");
    LabelFixture f;
    f.query = storage::insertQuery(db, c, Query{"q", "query", "", {}}, std::nullopt);
    f.a = storage::insertCandidate(db, c, Candidate{"a", Modality::Text, "", "A", "", {}}, std::nullopt);
    f.b = storage::insertCandidate(db, c, Candidate{"b", Modality::Text, "", "B", "", {}}, std::nullopt);
    return f;
}

} // namespace unirank::test
