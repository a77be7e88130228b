// SPDX-License-Identifier: GPL-3.0-or-later
// Exports a collection in the formats IR tools read. Every export is atomic (temp file or staging
// folder + rename): it is complete or absent.
//
// The collection: `collection` names one; empty means the project's only collection (an error when
// there are several).
#pragma once

#include "core/util/error.h"
#include "storage/project.h"

#include <filesystem>
#include <string>

namespace unirank::storage {

/// TREC qrels: the newest non-retracted graded label per (query, candidate). Returns lines written.
Result<std::size_t> exportQrels(Project &project, const std::filesystem::path &file, const std::string &collection = {});

/// TREC run of `modelVersion`'s newest score run, or of the imported first-stage run when
/// `modelVersion` is "first-stage" (or the first-stage run's tag). Scores strictly decrease per query.
Result<std::size_t> exportRun(Project &project, const std::filesystem::path &file, const std::string &modelVersion,
                              const std::string &collection = {});

/// Pairwise preferences in trec_eval's prefs format (see core/formats/trec.h for the mapping).
Result<std::size_t> exportPrefs(Project &project, const std::filesystem::path &file, const std::string &collection = {});

/// Preference pairs as TRL JSONL; ties and "both irrelevant" carry no preference and are left out.
Result<std::size_t> exportTrl(Project &project, const std::filesystem::path &file, const std::string &collection = {});

/// The collection as a BEIR folder again (corpus, queries, qrels, first-stage run, images): importing
/// it gives the same content. Returns the number of candidates.
Result<std::size_t> exportDataset(Project &project, const std::filesystem::path &dir, const std::string &collection = {});

/// Resolves `collection` as described above; throws InputError.
std::int64_t resolveCollection(Database &db, const std::string &collection);

} // namespace unirank::storage
