// SPDX-License-Identifier: GPL-3.0-or-later
// Imports a BEIR-style dataset folder (see core/formats/beir.h) into a project as one collection.
//
// All or nothing: the folder is read and checked completely first (every error names file, line and
// field), then written in one transaction; on any failure the transaction is rolled back and the
// media files this import created are removed, so the project is exactly as before.
//
// Threading: runs on the caller's thread with the project's connection; call it from a worker.
#pragma once

#include "core/util/error.h"
#include "storage/project.h"

#include <filesystem>
#include <functional>
#include <string>
#include <string_view>

namespace unirank::storage {

struct ImportOptions {
    std::string collectionName; ///< default: "<parent folder>/<folder>", e.g. "clipart-hybrid/dev"
    std::string actor = "cli";  ///< for the audit log
    /// (stage, done, total); stages: "images", "write". May be empty.
    std::function<void(std::string_view, std::size_t, std::size_t)> onProgress;
};

struct ImportSummary {
    std::int64_t collectionId = 0;
    std::string collectionName;
    std::size_t queries = 0;
    std::size_t candidates = 0;
    std::size_t images = 0;       ///< distinct image files referenced
    std::size_t newMediaFiles = 0; ///< of those, files not already in the media store
    std::size_t qrels = 0;
    std::size_t runEntries = 0;
    double readSeconds = 0;  ///< parsing and checking (incl. image decoding)
    double writeSeconds = 0; ///< the transaction (incl. copying media)
};

Result<ImportSummary> importDataset(Project &project, const std::filesystem::path &dir, const ImportOptions &options = {});

} // namespace unirank::storage
