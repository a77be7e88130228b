// SPDX-License-Identifier: GPL-3.0-or-later
// Alignment data from a project: lists capped with judged candidates kept first, grades attached,
// annotators' votes resolved by majority (a tie dropped, "tie" outcomes ignored), grade-derived pairs
// added under the human ones, and the counts reported.
#include "storage/alignment_data.h"
#include "storage/dataset_import.h"
#include "storage/label_history.h"
#include "storage/repo/catalog.h"
#include "storage/score_store.h"
#include "test_support.h"

#include "test_backend.h"

#include <QTemporaryDir>
#include <QTest>

using namespace unirank;
using namespace unirank::storage;

class TestAlignmentData : public QObject {
    Q_OBJECT
    QTemporaryDir m_tmp;

private slots:
    void humanAndDerivedPairs()
    {
        auto project = test::freshProject(std::filesystem::path(m_tmp.path().toStdString()), "a");
        QVERIFY(importDataset(*project, test::smokeDataset(), {}).has_value());
        const auto collection = listCollections(project->db()).front().id;
        const auto lists = firstStageLists(*project, collection);
        // On the last candidates of query 0 (beyond the cap of 8 in first-stage order): x > y by two
        // annotators against one, y > z and z > y (a tie of votes), and a "tie" outcome that is no vote.
        const auto &l = lists.front();
        const auto n = l.items.size();
        QVERIFY(n > 8);
        const auto x = l.items[n - 1], y = l.items[n - 2], z = l.items[n - 3];
        {
            LabelWriter writer(project->file());
            LabelHistory h(writer);
            QVERIFY(h.addPair({l.queryId, x.candidateId, y.candidateId, PairOutcome::Left, "ann1", PairSource::Human, false, "t"}));
            QVERIFY(h.addPair({l.queryId, y.candidateId, x.candidateId, PairOutcome::Right, "ann2", PairSource::Human, true, "t"}));
            QVERIFY(h.addPair({l.queryId, y.candidateId, x.candidateId, PairOutcome::Left, "ann3", PairSource::Human, false, "t"}));
            QVERIFY(h.addPair({l.queryId, y.candidateId, z.candidateId, PairOutcome::Left, "ann1", PairSource::Human, false, "t"}));
            QVERIFY(h.addPair({l.queryId, z.candidateId, y.candidateId, PairOutcome::Left, "ann2", PairSource::Human, false, "t"}));
            QVERIFY(h.addPair({l.queryId, x.candidateId, z.candidateId, PairOutcome::Tie, "ann3", PairSource::Human, false, "t"}));
        }
        AlignmentDataOptions options;
        options.maxCandidatesPerQuery = 8;
        options.derivedPerQuery = 5;
        const auto data = buildAlignmentData(*project, collection, options);
        QCOMPARE(data.groups.size(), lists.size());
        const auto &g = data.groups.front();
        QCOMPARE(g.group.items.size(), std::size_t(8));
        std::map<std::string, const TrainItem *> byId;
        for (const auto &item : g.group.items)
            byId[item.candidateId] = &item;
        QVERIFY(byId.contains(x.extId) && byId.contains(y.extId) && byId.contains(z.extId)); // voted on: kept
        QCOMPARE(g.pairs.front().source, PreferenceSource::Human);
        QCOMPARE(g.group.items[g.pairs.front().better].candidateId, x.extId);
        QCOMPARE(g.group.items[g.pairs.front().worse].candidateId, y.extId);
        QCOMPARE(g.pairs.front().reason, std::string("2 of 3 annotator votes"));
        std::size_t human = 0, derived = 0;
        for (const auto &p : g.pairs) {
            (p.source == PreferenceSource::Human ? human : derived)++;
            if (p.source == PreferenceSource::Derived)
                QVERIFY(g.group.items[p.better].grade > g.group.items[p.worse].grade);
        }
        QCOMPARE(human, std::size_t(1));
        QVERIFY(derived >= 1 && derived <= 5);
        QCOMPARE(data.counts.annotatorConflicts, std::size_t(1));
        const auto stats = data.stats();
        QCOMPARE(stats.at("queries").get<std::size_t>(), lists.size());
        QCOMPARE(stats.at("pairs_by_source").at("human").get<int>(), 1);
        // Every query's grades came along: graded items carry their grade and label.
        for (const auto &item : g.group.items)
            QVERIFY(item.grade < 0 || item.label == (item.grade >= 1 ? 1 : 0));
    }

    // The held-out queries are instruction tuning's (same share and seed), and they are measured on
    // every grade-derived pair while training keeps the cap.
    void splitCompletesHeldOutPairs()
    {
        auto project = test::freshProject(std::filesystem::path(m_tmp.path().toStdString()), "s");
        QVERIFY(importDataset(*project, test::smokeDataset(), {}).has_value());
        const auto collection = listCollections(project->db()).front().id;
        AlignmentDataOptions options;
        options.derivedPerQuery = 4;
        auto data = buildAlignmentData(*project, collection, options);
        std::vector<TrainGroup> lists, train, validation;
        for (const auto &g : data.groups)
            lists.push_back(g.group);
        splitByQuery(lists, {0.25, 7}, train, validation);
        const auto split = splitAlignmentData(std::move(data), 0.25, 7);
        QCOMPARE(split.train.size(), train.size());
        QCOMPARE(split.validation.size(), validation.size());
        QVERIFY(!validation.empty());
        std::size_t total = 0;
        for (std::size_t i = 0; i < validation.size(); ++i) {
            const auto &g = split.validation[i];
            QCOMPARE(g.group.queryId, validation[i].queryId);
            std::size_t graded = 0;
            for (const auto &a : g.group.items)
                for (const auto &b : g.group.items)
                    graded += a.grade >= 0 && b.grade >= 0 && a.grade > b.grade;
            total += graded;
            QCOMPARE(g.pairs.size(), graded);
        }
        QVERIFY(total > 4 * validation.size()); // beyond the training cap
        for (const auto &g : split.train)
            QVERIFY(g.pairs.size() <= 4);
    }
};

QTEST_GUILESS_MAIN(TestAlignmentData)
#include "test_alignment_data.moc"
