// SPDX-License-Identifier: GPL-3.0-or-later
// TREC-family text formats: qrels (TREC 4-column and BEIR qrels.tsv), runs, and trec_eval's
// preference format. Readers throw InputError naming file, line and field; writers are atomic.
#pragma once

#include "core/data/types.h"

#include <filesystem>
#include <vector>

namespace unirank {

struct QrelsReadOptions {
    int minGrade = 0;
    int maxGrade = 3; ///< the project stores graded relevance 0-3
};

/// Reads either a BEIR `qrels.tsv` (header `query-id corpus-id score`, 3 columns) or a TREC qrels file
/// (`qid iter docid rel`, 4 columns, no header); the first line decides. Duplicate (query, doc) pairs,
/// wrong column counts and grades outside the options' range are errors.
std::vector<QrelEntry> readQrels(const std::filesystem::path &path, const QrelsReadOptions &options = {});

/// Reads a TREC run (`qid Q0 docid rank score tag`). A document listed twice for a query is an error.
std::vector<RunEntry> readRun(const std::filesystem::path &path);

/// The same over text in memory (`file` names it in errors); the fuzz targets' entry points.
std::vector<QrelEntry> parseQrels(std::string_view text, const std::string &file, const QrelsReadOptions &options = {});
std::vector<RunEntry> parseRun(std::string_view text, const std::string &file);

/// Writes TREC qrels (`qid 0 docid grade`), in the given order.
void writeTrecQrels(const std::filesystem::path &path, const std::vector<QrelEntry> &qrels);

/// Writes BEIR qrels.tsv (tab-separated, with header).
void writeBeirQrels(const std::filesystem::path &path, const std::vector<QrelEntry> &qrels);

/// Writes a TREC run. Entries are ordered by query (first appearance) then rank; within a query the
/// written scores strictly decrease with rank, so trec_eval's sort (score, then docno) keeps our order:
/// a score that does not fall below the previous one is replaced by the next double below it.
/// Ranks are rewritten 1..n.
void writeRun(const std::filesystem::path &path, std::vector<RunEntry> entries, const std::string &tag);

/// Writes pairwise preferences in trec_eval's prefs format (`qid jg jsg docno rel_level`).
/// Mapping: one judgement group (jg) per annotator (derived and mined pairs use their source as
/// the group), one sub-group (jsg) per pair `p<id>`; the preferred side gets 2 and the other 1,
/// a tie gives both 1, "both irrelevant" gives both 0. trec_eval forbids a document being 0 in one
/// sub-group and non-zero in another of the same group; such a pair is written in a group of its own
/// (`<annotator>.p<id>`), so the file always loads. Returns the number of pairs written.
std::size_t writeTrecPrefs(const std::filesystem::path &path, const std::vector<PairPreference> &prefs);

} // namespace unirank
