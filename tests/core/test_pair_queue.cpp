// SPDX-License-Identifier: GPL-3.0-or-later
// The Label tab's pair queue: the pools hold the right pairs, an annotator never gets a pair twice,
// pairs judged by others come back for agreement, sides are randomised, seeds reproduce.
#include "core/labeling/pair_queue.h"

#include <QTest>

#include <set>

using namespace unirank::labeling;

namespace {

/// One query: r1 relevant ranked 3rd below irrelevant n1 and n2; the other version reverses x/y.
std::vector<QueueQuery> fixture()
{
    return {{"q",
             {{"n1", 0.9, 0.1, 0}, {"n2", 0.8, 0.2, 0}, {"r1", 0.7, 0.9, 2}, {"x", 0.69, 0.5, -1}, {"y", 0.2, 0.6, -1}}}};
}

} // namespace

class TestPairQueue : public QObject {
    Q_OBJECT

private slots:
    void pools()
    {
        PairQueue q(fixture());
        QCOMPARE(q.poolSize(PairReason::HardNegative), std::size_t(2)); // (r1, n1), (r1, n2)
        // With x (unjudged) moved to the top, the unjudged rule adds (r1, x); a relevance threshold of 3
        // leaves no relevant candidate (r1 has grade 2), so no hard negative at all.
        PairQueueOptions unjudged;
        unjudged.unjudgedAsNegative = true;
        auto moved = fixture();
        moved[0].candidates[3].score = 0.95; // x (unjudged) now tops the list
        QCOMPARE(PairQueue(moved).poolSize(PairReason::HardNegative), std::size_t(2));
        QCOMPARE(PairQueue(moved, unjudged).poolSize(PairReason::HardNegative), std::size_t(3)); // + (r1, x)
        PairQueueOptions strict;
        strict.relevanceThreshold = 3;
        QCOMPARE(PairQueue(fixture(), strict).poolSize(PairReason::HardNegative), std::size_t(0));
        QCOMPARE(q.poolSize(PairReason::Uncertain), std::size_t(4));    // neighbours in score order
        QCOMPARE(q.poolSize(PairReason::Random), std::size_t(10));      // every pair of 5
        QVERIFY(q.poolSize(PairReason::Disagreement) > 0);
        // Hard negatives come first with the default weights more often than anything else; with only
        // that pool weighted, the first two pairs are exactly the hard negatives.
        PairQueueOptions only;
        only.hardNegativeWeight = 1;
        only.uncertainWeight = only.disagreementWeight = only.randomWeight = only.agreementShare = 0;
        PairQueue hard(fixture(), only);
        std::set<std::set<std::string>> got;
        for (int i = 0; i < 2; ++i) {
            const auto p = hard.next("a");
            QVERIFY(p && p->reason == PairReason::HardNegative);
            got.insert({p->left, p->right});
            hard.markJudged("a", p->queryId, p->left, p->right);
        }
        QVERIFY(got == (std::set<std::set<std::string>>{{"r1", "n1"}, {"r1", "n2"}}));
        // Then it falls back to the other pools.
        QVERIFY(hard.next("a")->reason != PairReason::HardNegative);
    }

    void neverTheSamePairTwice()
    {
        PairQueue q(fixture(), {0.4, 0.3, 0.2, 0.1, 0.0, 42});
        std::set<std::set<std::string>> seen;
        int swapped = 0;
        while (const auto p = q.next("a")) {
            QVERIFY2(seen.insert({p->left, p->right}).second, "a pair came twice");
            swapped += p->shownSwapped;
            q.markJudged("a", p->queryId, p->left, p->right);
        }
        QCOMPARE(seen.size(), std::size_t(10)); // every pair once, then the queue is empty
        QVERIFY(swapped > 0 && swapped < 10);   // sides randomised
        QCOMPARE(q.judgedBy("a"), std::size_t(10));
    }

    void agreementAndSeeds()
    {
        PairQueueOptions o;
        o.agreementShare = 1.0; // always re-serve another annotator's pair when there is one
        PairQueue q(fixture(), o);
        q.markJudged("a", "q", "n1", "r1");
        const auto p = q.next("b");
        QVERIFY(p && p->reason == PairReason::Agreement);
        QVERIFY((std::set<std::string>{p->left, p->right}) == (std::set<std::string>{"n1", "r1"}));
        q.markJudged("b", p->queryId, p->left, p->right);
        QVERIFY(q.next("b")->reason != PairReason::Agreement); // nothing else to agree on
        // The same seed gives the same sequence.
        PairQueue x(fixture(), {0.4, 0.3, 0.2, 0.1, 0.1, 9}), y(fixture(), {0.4, 0.3, 0.2, 0.1, 0.1, 9});
        for (int i = 0; i < 5; ++i) {
            const auto px = x.next("a"), py = y.next("a");
            QVERIFY(px->left == py->left && px->right == py->right && px->reason == py->reason);
            x.markJudged("a", px->queryId, px->left, px->right);
            y.markJudged("a", py->queryId, py->left, py->right);
        }
    }
};

QTEST_GUILESS_MAIN(TestPairQueue)
#include "test_pair_queue.moc"
