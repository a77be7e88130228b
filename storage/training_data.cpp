// SPDX-License-Identifier: GPL-3.0-or-later
#include "storage/training_data.h"

#include "storage/repo/judgements.h"
#include "storage/score_store.h"

#include <map>
#include <set>

namespace unirank::storage {

TrainingData buildTrainingData(Project &project, std::int64_t collectionId, const TrainingDataOptions &options)
{
    auto &db = project.db();
    const auto lists = firstStageLists(project, collectionId);
    std::map<std::pair<std::string, std::string>, int> grades;
    for (const auto &q : currentQrels(db, collectionId))
        grades[{q.queryId, q.docId}] = q.grade;
    // Preference votes for ungraded candidates: +1 "yes", -1 "no".
    std::map<std::pair<std::string, std::string>, std::set<int>> votes;
    std::size_t skippedPreferences = 0;
    if (options.usePreferences) {
        for (const auto &p : currentPreferences(db, collectionId)) {
            if (p.source != PairSource::Human || p.outcome == PairOutcome::Tie)
                continue;
            const auto gradeOf = [&](const std::string &doc) -> std::optional<int> {
                const auto it = grades.find({p.queryId, doc});
                return it == grades.end() ? std::nullopt : std::optional(it->second);
            };
            if (p.outcome == PairOutcome::BothIrrelevant) {
                for (const auto *doc : {&p.leftId, &p.rightId})
                    if (!gradeOf(*doc))
                        votes[{p.queryId, *doc}].insert(-1);
                continue;
            }
            const auto &better = p.outcome == PairOutcome::Left ? p.leftId : p.rightId;
            const auto &worse = p.outcome == PairOutcome::Left ? p.rightId : p.leftId;
            const auto gb = gradeOf(better), gw = gradeOf(worse);
            bool used = false;
            // "better" is relevant only if it beat something relevant, or nothing is known against it.
            if (!gb && (!gw || *gw >= options.relevanceThreshold)) {
                votes[{p.queryId, better}].insert(+1);
                used = true;
            }
            // "worse" is irrelevant only if it lost to something relevant or unjudged.
            if (!gw && (!gb || *gb >= options.relevanceThreshold)) {
                votes[{p.queryId, worse}].insert(-1);
                used = true;
            }
            skippedPreferences += used ? 0 : 1;
        }
    }

    TrainingData out;
    std::map<std::string, std::size_t> counts;
    std::size_t conflicts = 0;
    for (const auto &l : lists) {
        TrainGroup g{l.queryExtId, l.queryText, l.queryImage, l.queryImageHash, {}};
        for (const auto &item : l.items) {
            TrainItem t{item.extId, item.text, item.image, item.imageHash, 0, -1, TrainItem::Source::Graded};
            const std::pair key{l.queryExtId, item.extId};
            if (const auto grade = grades.find(key); grade != grades.end()) {
                t.grade = grade->second;
                t.label = grade->second >= options.relevanceThreshold ? 1 : 0;
                ++counts[t.label ? "graded_yes" : "graded_no"];
            } else if (const auto v = votes.find(key); v != votes.end()) {
                if (v->second.size() > 1) {
                    ++conflicts;
                    continue;
                }
                t.source = TrainItem::Source::Preference;
                t.label = *v->second.begin() > 0 ? 1 : 0;
                ++counts[t.label ? "preference_yes" : "preference_no"];
            } else if (options.firstStageNegatives) {
                t.source = TrainItem::Source::FirstStage;
                ++counts["first_stage_no"];
            } else {
                continue;
            }
            g.items.push_back(std::move(t));
        }
        if (!g.items.empty())
            out.groups.push_back(std::move(g));
    }
    std::size_t positives = 0;
    for (const auto &g : out.groups)
        positives += g.positives();
    if (positives == 0)
        throw InputError("the collection has no relevant candidate (graded label >= " +
                         std::to_string(options.relevanceThreshold) + " or preferred side) to learn from");
    out.stats = nlohmann::json{{"queries", out.groups.size()},
                               {"preference_conflicts_dropped", conflicts},
                               {"preferences_without_evidence", skippedPreferences}};
    for (const auto &[name, n] : counts)
        out.stats[name] = n;
    return out;
}

} // namespace unirank::storage
