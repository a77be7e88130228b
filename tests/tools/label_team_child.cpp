// SPDX-License-Identifier: GPL-3.0-or-later
// Test helper for tests/storage/test_pair_claims: one analyst labelling pairs the way the Label tab
// does, for a while. It draws pairs from a PairQueue over the collection's first-stage lists, claims
// each (storage/pair_claims.h) and, when it got the pair, writes a pair label through a LabelWriter
// after a short think time, then prints "ack <label id> <query> <low> <high> <reason>" (or "refused
// taken|judged" when another analyst had the pair). Every 10 pairs it
// reads the other analysts' labels (what live updates give the app), so agreement pairs are served.
//
// usage: label_team_child PROJECT ANNOTATOR SECONDS SEED
#include "core/labeling/pair_queue.h"
#include "storage/dataset_export.h"
#include "storage/label_writer.h"
#include "storage/pair_claims.h"
#include "storage/project.h"
#include "storage/repo/catalog.h"
#include "storage/repo/judgements.h"
#include "storage/score_store.h"

#include <chrono>
#include <cstdio>
#include <map>
#include <thread>

using namespace unirank;
using namespace unirank::storage;

int main(int argc, char **argv)
{
    if (argc != 5) {
        std::fprintf(stderr, "usage: %s PROJECT ANNOTATOR SECONDS SEED\n", argv[0]);
        return 2;
    }
    const std::string location = argv[1], annotator = argv[2];
    const auto until = std::chrono::steady_clock::now() + std::chrono::seconds(std::atoi(argv[3]));
    auto project = Project::open(location);
    if (!project) {
        std::fprintf(stderr, "open: %s\n", project.error().message.c_str());
        return 3;
    }
    auto &db = (*project)->db();
    const auto collection = resolveCollection(db, "");
    std::vector<labeling::QueueQuery> queries;
    std::map<std::string, std::int64_t> queryIds, candidateIds;
    for (const auto &l : firstStageLists(**project, collection)) {
        labeling::QueueQuery q{l.queryExtId, {}};
        queryIds[l.queryExtId] = l.queryId;
        for (const auto &item : l.items) {
            q.candidates.push_back({item.extId, 0.0, std::nullopt, -1});
            candidateIds[item.extId] = item.candidateId;
        }
        queries.push_back(std::move(q));
    }
    labeling::PairQueueOptions options;
    options.hardNegativeWeight = options.uncertainWeight = options.disagreementWeight = 0;
    options.randomWeight = 1;
    options.agreementShare = 0.2;
    options.seed = static_cast<std::uint64_t>(std::atoll(argv[4]));
    labeling::PairQueue queue(std::move(queries), options);

    LabelWriter writer(location);
    int served = 0;
    while (std::chrono::steady_clock::now() < until) {
        if (++served % 10 == 1)
            for (const auto &p : currentPreferences(db, collection))
                if (p.annotator != annotator)
                    queue.markJudged(p.annotator, p.queryId, p.leftId, p.rightId);
        const auto pair = queue.next(annotator);
        if (!pair) {
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
            continue;
        }
        queue.markJudged(annotator, pair->queryId, pair->left, pair->right); // served: never again to us
        const auto q = queryIds.at(pair->queryId);
        const auto a = candidateIds.at(pair->left), b = candidateIds.at(pair->right);
        const bool overlap = pair->reason == labeling::PairReason::Agreement;
        const auto claim = claimPair(db, {q, a, b, annotator, overlap});
        if (!claim) {
            std::fprintf(stderr, "claim: %s\n", claim.error().message.c_str());
            return 4;
        }
        if (*claim != ClaimOutcome::Claimed) {
            std::printf("refused %s\n", *claim == ClaimOutcome::Taken ? "taken" : "judged");
            continue;
        }
        std::this_thread::sleep_for(std::chrono::milliseconds(15)); // the analyst looks at the pair
        const auto id = writer.addPair({q, a, b, PairOutcome::Left, annotator, PairSource::Human, pair->shownSwapped,
                                        labeling::toString(pair->reason)})
                            .get();
        if (!id) {
            std::fprintf(stderr, "label: %s\n", id.error().message.c_str());
            return 5;
        }
        std::printf("ack %lld %lld %lld %lld %s\n", static_cast<long long>(*id), static_cast<long long>(q),
                    static_cast<long long>(std::min(a, b)), static_cast<long long>(std::max(a, b)),
                    labeling::toString(pair->reason));
        std::fflush(stdout);
    }
    const auto released = releasePairClaims(db, annotator);
    return released ? 0 : 6;
}
