// SPDX-License-Identifier: GPL-3.0-or-later
// The preference set of an alignment round: annotator majority with tied votes dropped, pairs derived
// from grades (widest gaps first, capped), hard negatives mined from model scores under both unjudged
// rules, the precedence human > derived > mined, and the TRL records with each pair's source and reason.
#include "core/data/preference_set.h"

#include <QTest>

using namespace unirank;

namespace {

// a: grade 2, b: grade 0, c: grade 1, d: unjudged, e: grade 0.
AlignGroup group()
{
    AlignGroup g;
    g.group.queryId = "q1";
    g.group.queryText = "red apple";
    for (const auto &[id, grade] : std::vector<std::pair<std::string, int>>{{"a", 2}, {"b", 0}, {"c", 1}, {"d", -1}, {"e", 0}})
        g.group.items.push_back({id, "text " + id, {}, {}, grade >= 1 ? 1 : 0, grade, TrainItem::Source::Graded});
    return g;
}

std::vector<std::string> pairs(const AlignGroup &g)
{
    std::vector<std::string> out;
    for (const auto &p : g.pairs)
        out.push_back(g.group.items[p.better].candidateId + ">" + g.group.items[p.worse].candidateId + ":" + toString(p.source));
    return out;
}

} // namespace

class TestPreferenceSet : public QObject {
    Q_OBJECT

private slots:
    void humanMajorityThenGrades()
    {
        auto g = group();
        PreferenceCounts counts;
        addHumanPairs(g,
                      {{"a", "b", "ann1"}, {"b", "a", "ann2"},                     // tied: dropped
                       {"c", "d", "ann1"}, {"c", "d", "ann2"}, {"d", "c", "ann3"}, // 2 of 3 for c
                       {"e", "a", "ann1"},                                         // against the grades
                       {"a", "zz", "ann1"}},                                       // not in the list
                      counts);
        QCOMPARE(pairs(g), (std::vector<std::string>{"e>a:human", "c>d:human"})); // in list order of the pair
        QCOMPARE(g.pairs[1].reason, std::string("2 of 3 annotator votes"));
        QCOMPARE(counts.annotatorConflicts, std::size_t(1));
        QCOMPARE(counts.unknownCandidates, std::size_t(1));
        // Grades give a>b, a>e, a>c, c>b, c>e (widest gaps first); a>e contradicts the human pair.
        addDerivedPairs(g, 0, counts);
        QCOMPARE(pairs(g), (std::vector<std::string>{"e>a:human", "c>d:human", "a>b:derived", "a>c:derived", "c>b:derived",
                                                     "c>e:derived"}));
        QCOMPARE(counts.overridden, std::size_t(1));
        QCOMPARE(counts.added.at("human"), std::size_t(2));
        QCOMPARE(counts.added.at("derived"), std::size_t(4));
        QCOMPARE(g.pairs[2].reason, std::string("grade 2 over 0"));
        // Mining repeats what grades already say: nothing new, two overridden.
        addMinedPairs(g, {3, 4, 1, 5, 2}, 1, UnjudgedRule::Skip, 0, counts);
        QCOMPARE(g.pairs.size(), std::size_t(6));
        QCOMPARE(counts.overridden, std::size_t(3));

        auto capped = group();
        PreferenceCounts c2;
        addDerivedPairs(capped, 2, c2);
        QCOMPARE(pairs(capped), (std::vector<std::string>{"a>b:derived", "a>e:derived"}));
    }

    void hardNegatives()
    {
        // Ranking by score: d (unjudged), b (0), a (2), e (0), c (1).
        const std::vector<double> scores{3, 4, 1, 5, 2};
        auto g = group();
        PreferenceCounts counts;
        addMinedPairs(g, scores, 1, UnjudgedRule::Skip, 0, counts);
        QCOMPARE(pairs(g), (std::vector<std::string>{"a>b:mined", "c>e:mined"}));
        QCOMPARE(g.pairs[0].reason, std::string("judged non-relevant at rank 2 above relevant at rank 3"));
        // Unjudged counts as non-relevant: d at rank 1 is the hardest negative.
        auto h = group();
        addMinedPairs(h, scores, 1, UnjudgedRule::Negative, 0, counts);
        QCOMPARE(pairs(h), (std::vector<std::string>{"a>d:mined", "a>b:mined", "c>e:mined"}));
        QCOMPARE(h.pairs[0].reason, std::string("unjudged at rank 1 above relevant at rank 3"));
        auto one = group();
        addMinedPairs(one, scores, 1, UnjudgedRule::Negative, 1, counts);
        QCOMPARE(pairs(one), (std::vector<std::string>{"a>d:mined"}));
        // A threshold of 2 makes c non-relevant: e and c have no relevant item below them.
        auto strict = group();
        addMinedPairs(strict, scores, 2, UnjudgedRule::Skip, 0, counts);
        QCOMPARE(pairs(strict), (std::vector<std::string>{"a>b:mined"}));
    }

    void trlRecords()
    {
        auto g = group();
        g.group.items[1].image = "/media/b.png";
        PreferenceCounts counts;
        addDerivedPairs(g, 1, counts);
        const auto trl = toTrlPairs(g);
        QCOMPARE(trl.size(), std::size_t(1));
        QCOMPARE(trl[0].prompt, std::string("red apple"));
        QCOMPARE(trl[0].chosen, std::string("text a"));
        QCOMPARE(trl[0].rejectedImage, std::string("/media/b.png"));
        QCOMPARE(trl[0].source, std::string("derived"));
        QCOMPARE(trl[0].reason, std::string("grade 2 over 0"));
        QCOMPARE(trl[0].chosenId + trl[0].rejectedId + trl[0].queryId, std::string("abq1"));
    }
};

QTEST_GUILESS_MAIN(TestPreferenceSet)
#include "test_preference_set.moc"
