// SPDX-License-Identifier: GPL-3.0-or-later
#include "storage/project_eval.h"

#include "storage/dataset_export.h"
#include "storage/errors.h"
#include "storage/repo/catalog.h"
#include "storage/repo/judgements.h"
#include "storage/repo/models.h"

#include <algorithm>

namespace unirank::storage {
namespace {

eval::Report evaluate(Project &project, const ProjectEvalOptions &o)
{
    auto &db = project.db();
    const auto collectionId = resolveCollection(db, o.collection);
    const auto qrels = eval::toQrels(currentQrels(db, collectionId));
    if (qrels.empty())
        throw InputError("the collection has no graded labels to evaluate against");
    std::vector<eval::NamedRun> runs;
    std::vector<std::optional<std::int64_t>> scoreRuns; // parallel to runs; none for the first stage
    const auto firstStage = listFirstStageRuns(db, collectionId);
    if (!firstStage.empty()) {
        runs.push_back({"first-stage:" + firstStage.back().tag, eval::toRun(firstStageEntries(db, firstStage.back().id))});
        scoreRuns.emplace_back();
    }
    for (const auto &v : listModelVersions(db)) {
        if (!o.modelVersions.empty() &&
            std::find(o.modelVersions.begin(), o.modelVersions.end(), v.name) == o.modelVersions.end())
            continue;
        const auto run = latestScoreRun(db, v.id, collectionId);
        if (!run)
            continue;
        runs.push_back({v.name, eval::toRun(scoreRunEntries(db, *run))});
        scoreRuns.push_back(*run);
    }
    for (const auto &wanted : o.modelVersions)
        if (std::none_of(runs.begin(), runs.end(), [&](const eval::NamedRun &r) { return r.name == wanted; }))
            throw InputError("model version '" + wanted + "' has no score run on this collection");
    if (runs.empty())
        throw InputError("the collection has neither a first-stage list nor a score run");
    if (!o.baseline.empty()) {
        const auto it = std::find_if(runs.begin(), runs.end(), [&](const eval::NamedRun &r) { return r.name == o.baseline; });
        if (it == runs.end())
            throw InputError("baseline '" + o.baseline + "' is neither the first stage nor a version with a score run");
        const auto at = it - runs.begin();
        std::rotate(runs.begin(), it, it + 1);
        std::rotate(scoreRuns.begin(), scoreRuns.begin() + at, scoreRuns.begin() + at + 1);
    }
    auto options = o.report;
    eval::Modalities modalities;
    for (const auto &c : listCandidates(db, collectionId))
        modalities[c.candidate.id] = c.candidate.modality;
    options.modalities = std::move(modalities);
    std::vector<eval::PairJudgement> pairs;
    for (const auto &p : currentPreferences(db, collectionId))
        pairs.push_back({p.queryId, p.leftId, p.rightId, p.outcome, p.annotator});
    if (!pairs.empty())
        options.preferences = std::move(pairs);
    auto report = eval::evaluateRuns(qrels, runs, options);
    if (o.store && std::any_of(scoreRuns.begin(), scoreRuns.end(), [](const auto &r) { return r.has_value(); })) {
        const nlohmann::json stored{{"relevance_level", options.eval.relevanceLevel},
                                    {"complete", options.eval.complete},
                                    {"baseline", runs.front().name},
                                    {"seed", options.seed}};
        Transaction tx(db);
        for (std::size_t i = 0; i < runs.size(); ++i) {
            if (!scoreRuns[i])
                continue;
            auto results = report.json.at("runs")[i];
            results["comparisons"] = nlohmann::json::array();
            for (const auto &c : report.json.value("comparisons", nlohmann::json::array()))
                if (c.at("run") == runs[i].name)
                    results["comparisons"].push_back(c);
            db.prepare("INSERT INTO evaluations (score_run_id, options, results) VALUES (?1, ?2, ?3)")
                .bindAll(*scoreRuns[i], stored.dump(), results.dump())
                .run();
        }
        tx.commit();
    }
    return report;
}

} // namespace

eval::AnnotatorAgreement teamAgreement(Database &db, std::int64_t collectionId)
{
    std::vector<eval::PairJudgement> pairs;
    for (const auto &p : currentPreferences(db, collectionId))
        if (p.source == PairSource::Human)
            pairs.push_back({p.queryId, p.leftId, p.rightId, p.outcome, p.annotator});
    return eval::krippendorffAlpha(pairs);
}

Result<eval::Report> evaluateProject(Project &project, const ProjectEvalOptions &options)
{
    return capture([&] { return evaluate(project, options); });
}

std::vector<StoredEvaluation> listEvaluations(Database &db, std::int64_t scoreRunId)
{
    auto st = db.prepare("SELECT id, score_run_id, options, results, created_at FROM evaluations "
                         "WHERE score_run_id = ?1 ORDER BY id");
    st.bindAll(scoreRunId);
    return st.collect([](const Statement &s) {
        return StoredEvaluation{s.columnInt(0), s.columnInt(1), nlohmann::json::parse(s.columnText(2)),
                                nlohmann::json::parse(s.columnText(3)), s.columnText(4)};
    });
}

} // namespace unirank::storage
