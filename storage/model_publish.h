// SPDX-License-Identifier: GPL-3.0-or-later
// Publishing trained weights as a model version: the files of a checkpoint (or of a run's best folder)
// are copied into their own folder atomically (complete or absent, so pruning the run's checkpoints
// later cannot take a registered version with it), then registered under their parent. The CLI's
// training commands and the Train tab's "use this version" share it.
//
// Threading: the caller's thread and connection. Errors: std::filesystem errors while copying (the
// destination is untouched then), StorageError from SQLite.
#pragma once

#include "storage/repo/models.h"

#include <filesystem>

namespace unirank::storage {

struct PublishedVersion {
    std::int64_t id = 0;
    std::string name;
};

/// Copies `source`'s files to `destination` (replacing it atomically; a checkpoint's training state,
/// optimizer.safetensors (or an old optimizer.pt) and trainer_state.json, stays behind) and registers it as a model version under
/// `parent` (ensureModelVersion: the same weights give the same version).
PublishedVersion publishModelFolder(Database &db, const std::filesystem::path &source, const std::filesystem::path &destination,
                                    ModelKind kind, const std::string &contentHash, std::int64_t parent,
                                    const nlohmann::json &metadata);

} // namespace unirank::storage
