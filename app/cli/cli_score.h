// SPDX-License-Identifier: GPL-3.0-or-later
// `score` as a function, for the commands that score as one of their steps (demo).
#pragma once

#include "cli_project.h"

#include <string>

namespace unirank::cli {

struct ScoreArgs {
    std::string model, adapter, modelVersion, dataset, project, collection, device = "cpu", dtype = "fp32", tag, out;
    bool textAsImage = false, noPrefixCache = false, noCandidateReuse = false, int8 = false;
    std::int64_t batchSize = 8;
    std::int64_t minPixels = 0, maxPixels = 0; ///< 0: the default pixel budget (scorer.h)
};

/// Scores and writes/stores the run as `unirank-cli score` does (cmd_score.cpp's header); throws
/// InputError / CommandFailed.
void runScore(ScoreArgs args);

} // namespace unirank::cli
