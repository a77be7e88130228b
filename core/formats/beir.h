// SPDX-License-Identifier: GPL-3.0-or-later
// BEIR-style hybrid dataset folders:
//   corpus.jsonl   {"_id", "title"?, "text"?, "image"? (relative path), "modality"? text|image|text+image}
//   queries.jsonl  {"_id", "text", "image"?}
//   qrels.tsv      header "query-id corpus-id score", then one graded judgement (0-3) per line
//   run.trec       optional first-stage lists: qid Q0 docid rank score tag
//   images/...     files referenced by "image"
// Fields we do not interpret are kept (Query/Candidate::metadata) and written back on export, so
// read -> write -> read gives identical content.
//
// readBeirFolder validates everything before returning; it throws InputError whose message names the
// file, the line and the field. Nothing is written anywhere.
#pragma once

#include "core/data/types.h"
#include "core/util/error.h"
#include "core/vision/image_probe.h"

#include <filesystem>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <vector>

namespace unirank {

/// A checked image file of a dataset.
struct DatasetImage {
    std::filesystem::path absolutePath;
    std::string sha256;
    std::uint64_t bytes = 0;
    ImageInfo info;
};

struct BeirDataset {
    std::filesystem::path root;
    std::vector<Query> queries;
    std::vector<Candidate> candidates;
    std::vector<QrelEntry> qrels;
    std::optional<std::vector<RunEntry>> run; ///< absent when the folder has no run.trec
    std::string runTag;                        ///< the run's tag column (first line), if any
    std::map<std::string, DatasetImage> images; ///< by relative path as written in the JSONL files
};

struct BeirReadOptions {
    ImageLimits imageLimits;
    /// Called after each checked image (done, total); may be empty.
    std::function<void(std::size_t, std::size_t)> onImageProgress;
};

BeirDataset readBeirFolder(const std::filesystem::path &dir, const BeirReadOptions &options = {});

/// Checks that `relative` (as found in a dataset file) names a file inside `root`: not absolute, no
/// "..", no symlink leading out. Returns the absolute path or throws InputError at `where`.
std::filesystem::path resolveInsideFolder(const std::filesystem::path &root, const std::string &relative,
                                          const SourceLocation &where);

/// Checks an id used in TREC files: non-empty, no whitespace or control characters, at most 256 bytes.
void checkExternalId(const std::string &id, const SourceLocation &where);

/// Writes a dataset folder (corpus.jsonl, queries.jsonl, qrels.tsv, run.trec when present, images).
/// `copyImage(relativePath, destination)` must write the image bytes of `relativePath` to
/// `destination` (it may use AtomicFile::Sync::Deferred: the folder is synced before it is swapped in).
/// The folder appears atomically: complete, or not at all.
void writeBeirFolder(const std::filesystem::path &dir, const BeirDataset &data,
                     const std::function<void(const std::string &, const std::filesystem::path &)> &copyImage);

} // namespace unirank
