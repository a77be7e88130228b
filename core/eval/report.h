// SPDX-License-Identifier: GPL-3.0-or-later
// One evaluation of N runs against one set of qrels, as the CLI prints it and the GUI shows it: metric
// means per run, per-query values, paired comparisons of every run against the first (randomisation
// p, Holm-adjusted over the runs, bootstrap interval), modality split and bias when modalities are
// known, agreement with human preferences, and calibration of the run scores read as logit margins.
//
// Pure functions, thread-safe. Errors: InputError for bad options.
#pragma once

#include "core/eval/analysis.h"
#include "core/eval/calibration.h"
#include "core/eval/significance.h"

#include <nlohmann/json.hpp>

#include <optional>

namespace unirank::eval {

struct NamedRun {
    std::string name;
    Run run;
};

struct ReportOptions {
    EvalOptions eval;
    bool perQuery = false;
    std::optional<Modalities> modalities;        ///< enables the modality split and bias
    std::optional<std::vector<PairJudgement>> preferences;
    bool calibration = false;                    ///< run scores are logit margins
    double temperature = 1.0;                    ///< applied before calibration
    std::uint64_t seed = 20261127;
    int permutations = 10000;
    long biasCutoff = 10;
};

struct Report {
    nlohmann::json json; ///< every number
    std::string text;    ///< a readable table
};

Report evaluateRuns(const Qrels &qrels, const std::vector<NamedRun> &runs, const ReportOptions &options);

} // namespace unirank::eval
