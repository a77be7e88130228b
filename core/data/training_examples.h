// SPDX-License-Identifier: GPL-3.0-or-later
// Training examples for instruction tuning (torch-free, so storage can build them): (query, candidate,
// yes/no) items grouped per query, the split of groups into train and validation by query, and class
// balancing with a cap per query. storage/training_data builds them from a project.
//
// Pure functions, thread-safe; deterministic for a given seed.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace unirank {

struct TrainItem {
    std::string candidateId;
    std::string text;
    std::filesystem::path image; ///< absolute; empty for text candidates
    std::string imageHash;
    int label = 0;  ///< 1 = relevant ("yes"), 0 = not ("no")
    int grade = -1; ///< the graded label behind it, -1 when it came from a preference or the first stage
    enum class Source { Graded, Preference, FirstStage } source = Source::Graded;
};

struct TrainGroup {
    std::string queryId;
    std::string queryText;
    std::filesystem::path queryImage;
    std::string queryImageHash;
    std::vector<TrainItem> items;
    std::size_t positives() const;
};

struct SplitOptions {
    double validationShare = 0.2; ///< of the queries (at least one when there are two or more)
    std::uint64_t seed = 42;
};

/// Splits the groups by query; both parts keep the input order.
void splitByQuery(const std::vector<TrainGroup> &groups, const SplitOptions &options, std::vector<TrainGroup> &train,
                  std::vector<TrainGroup> &validation);

/// The held-out queries of a run in two parts: the published checkpoint is chosen on `selection`, and
/// its metrics are reported on `reporting`, which chose nothing (indices into the held-out list, ascending).
struct HeldOutSplit {
    std::vector<std::size_t> selection, reporting;
};

/// A seeded shuffle of the held-out queries taken in query-id order, so instruction tuning and alignment
/// split the same queries alike whatever order their lists come in; round(reportShare x count) of them
/// report (at least one when reportShare > 0 and there are two or more; never all: selection keeps one).
HeldOutSplit splitHeldOut(const std::vector<std::string> &queryIds, double reportShare, std::uint64_t seed);

struct BalanceOptions {
    double negativesPerPositive = 1.0; ///< 0: keep every negative
    std::size_t maxPerQuery = 16;      ///< 0: no cap
    std::uint64_t seed = 42;
};

/// Keeps every positive (up to the cap) and at most negativesPerPositive x as many negatives,
/// preferring graded negatives, then preference-derived, then first-stage ones; drops groups without
/// a positive or without a negative (they teach the listwise term nothing and skew the classes).
std::vector<TrainGroup> balanceGroups(const std::vector<TrainGroup> &groups, const BalanceOptions &options);

} // namespace unirank
