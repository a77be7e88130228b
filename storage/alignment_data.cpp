// SPDX-License-Identifier: GPL-3.0-or-later
#include "storage/alignment_data.h"

#include "core/util/error.h"
#include "storage/repo/judgements.h"
#include "storage/score_store.h"

#include <map>
#include <set>

namespace unirank::storage {

nlohmann::json AlignmentData::stats() const
{
    std::size_t pairs = 0;
    for (const auto &g : groups)
        pairs += g.pairs.size();
    nlohmann::json added = nlohmann::json::object();
    for (const auto &[source, n] : counts.added)
        added[source] = n;
    return {{"queries", groups.size()},
            {"pairs", pairs},
            {"pairs_by_source", added},
            {"annotator_conflicts_dropped", counts.annotatorConflicts},
            {"pairs_overridden", counts.overridden}};
}

AlignmentData buildAlignmentData(Project &project, std::int64_t collectionId, const AlignmentDataOptions &options)
{
    auto &db = project.db();
    const auto lists = firstStageLists(project, collectionId);
    if (lists.empty())
        throw InputError("the collection has no first-stage list to align on");
    std::map<std::pair<std::string, std::string>, int> grades;
    for (const auto &q : currentQrels(db, collectionId))
        grades[{q.queryId, q.docId}] = q.grade;
    std::map<std::string, std::vector<HumanVote>> votes;
    if (options.useHuman)
        for (const auto &p : currentPreferences(db, collectionId)) {
            if (p.source != PairSource::Human || (p.outcome != PairOutcome::Left && p.outcome != PairOutcome::Right))
                continue; // ties and "both irrelevant" state no preference
            const bool left = p.outcome == PairOutcome::Left;
            votes[p.queryId].push_back({left ? p.leftId : p.rightId, left ? p.rightId : p.leftId, p.annotator});
        }

    AlignmentData out;
    for (const auto &l : lists) {
        std::set<std::string> voted;
        for (const auto &v : votes[l.queryExtId]) {
            voted.insert(v.better);
            voted.insert(v.worse);
        }
        // Candidates annotators compared first, then graded ones, then the rest, each in first-stage order.
        std::vector<std::size_t> keep;
        const auto tier = [&](const std::string &id) { return voted.contains(id) ? 0 : grades.contains({l.queryExtId, id}) ? 1 : 2; };
        for (int pass = 0; pass < 3; ++pass)
            for (std::size_t i = 0; i < l.items.size(); ++i)
                if (tier(l.items[i].extId) == pass && (options.maxCandidatesPerQuery == 0 || keep.size() < options.maxCandidatesPerQuery))
                    keep.push_back(i);
        std::sort(keep.begin(), keep.end());
        AlignGroup g;
        g.group = {l.queryExtId, l.queryText, l.queryImage, l.queryImageHash, {}};
        for (const auto i : keep) {
            const auto &item = l.items[i];
            TrainItem t{item.extId, item.text, item.image, item.imageHash, 0, -1, TrainItem::Source::FirstStage};
            if (const auto it = grades.find({l.queryExtId, item.extId}); it != grades.end()) {
                t.grade = it->second;
                t.label = t.grade >= options.relevanceThreshold ? 1 : 0;
                t.source = TrainItem::Source::Graded;
            }
            g.group.items.push_back(std::move(t));
        }
        if (g.group.items.size() < 2)
            continue;
        addHumanPairs(g, votes[l.queryExtId], out.counts);
        if (options.useDerived)
            addDerivedPairs(g, options.derivedPerQuery, out.counts);
        out.groups.push_back(std::move(g));
    }
    std::size_t pairs = 0;
    for (const auto &g : out.groups)
        pairs += g.pairs.size();
    if (pairs == 0)
        throw InputError("the collection has no pairwise preference or graded difference to align on");
    return out;
}

AlignmentSplit splitAlignmentData(AlignmentData data, double validationShare, std::uint64_t seed)
{
    std::vector<TrainGroup> lists, trainLists, valLists;
    for (const auto &g : data.groups)
        lists.push_back(g.group);
    splitByQuery(lists, {validationShare, seed}, trainLists, valLists);
    std::set<std::string> held;
    for (const auto &g : valLists)
        held.insert(g.queryId);
    AlignmentSplit out;
    PreferenceCounts measured; // not training data: kept out of the data's counts
    for (auto &g : data.groups) {
        if (held.contains(g.group.queryId)) {
            addDerivedPairs(g, 0, measured);
            out.validation.push_back(std::move(g));
        } else {
            out.train.push_back(std::move(g));
        }
    }
    return out;
}

} // namespace unirank::storage
