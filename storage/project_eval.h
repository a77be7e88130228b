// SPDX-License-Identifier: GPL-3.0-or-later
// Evaluating a project collection: the current graded labels as qrels, the first-stage list as the
// baseline run, the newest score run of each model version as the runs compared with it, the current
// pairwise preferences and the candidates' modalities; the report of core/eval. Each model version's
// results are stored with its score run (table `evaluations`), in one transaction.
//
// Threading: the caller's thread and connection. Errors: BadInput when the collection has no labels or
// runs, StorageError from SQLite.
#pragma once

#include "core/eval/report.h"
#include "storage/project.h"

namespace unirank::storage {

struct ProjectEvalOptions {
    std::string collection;                 ///< empty: the only collection
    std::vector<std::string> modelVersions; ///< empty: every version with a score run on the collection
    std::string baseline;                   ///< the run every other is compared with (a version name or
                                            ///< "first-stage:<tag>"); empty: the first stage, else the first version
    eval::ReportOptions report;             ///< modalities and preferences are filled from the project
    bool store = true;
};

struct StoredEvaluation {
    std::int64_t id = 0;
    std::int64_t scoreRunId = 0;
    nlohmann::json options, results;
    std::string createdAt;
};

Result<eval::Report> evaluateProject(Project &project, const ProjectEvalOptions &options);
std::vector<StoredEvaluation> listEvaluations(Database &db, std::int64_t scoreRunId);

/// Inter-annotator agreement of the collection's current human pair labels (Krippendorff's alpha
/// over pairs judged by two or more analysts). Reads only; the Evaluate tab shows it live.
eval::AnnotatorAgreement teamAgreement(Database &db, std::int64_t collectionId);

} // namespace unirank::storage
