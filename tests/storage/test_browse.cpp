// SPDX-License-Identifier: GPL-3.0-or-later
// The app's read-only views of a collection: status counts follow labels (and their undo), grades
// take the newest label, one query's rankings come in rank order, and the pair-queue input carries
// both versions' scores, grades and who judged what.
#include "storage/browse.h"
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

class TestBrowse : public QObject {
    Q_OBJECT
    QTemporaryDir m_tmp;
    std::filesystem::path m_file;
    std::unique_ptr<Project> m_project;
    std::int64_t m_collection = 0;
    std::vector<CandidateList> m_lists;

private slots:
    void initTestCase()
    {
        m_file = test::newProjectLocation(std::filesystem::path(m_tmp.path().toStdString()), "b");
        m_project = std::move(*test::createProject(m_file));
        QVERIFY(importDataset(*m_project, test::smokeDataset(), {}).has_value());
        m_collection = listCollections(m_project->db()).front().id;
        m_lists = firstStageLists(*m_project, m_collection);
    }

    void rankingsAndModalities()
    {
        auto &db = m_project->db();
        const auto &list = m_lists.front();
        const auto first = firstStageQuery(db, list.queryId);
        QCOMPARE(first.size(), list.items.size());
        for (std::size_t i = 0; i < first.size(); ++i) {
            QCOMPARE(first[i].candidateId, list.items[i].candidateId);
            QCOMPARE(first[i].rank, int(i) + 1);
        }
        std::vector<ScoredItem> items;
        for (std::size_t i = 0; i < list.items.size(); ++i)
            items.push_back({list.queryId, list.items[i].candidateId, double(i)});
        const auto v = ensureModelVersion(db, "rev", ModelKind::Base, "/x", "h-rev");
        const auto run = storeScoreRun(db, v, m_collection, {}, items);
        const auto scored = scoreRunQuery(db, run, list.queryId);
        QCOMPARE(scored.size(), list.items.size());
        QCOMPARE(scored.front().candidateId, list.items.back().candidateId);
        QVERIFY(scoreRunQuery(db, run, m_lists[1].queryId).empty());
        const auto modalities = candidateModalities(db, m_collection);
        QCOMPARE(modalities.size(), listCandidates(db, m_collection).size());
        QVERIFY(std::any_of(modalities.begin(), modalities.end(), [](const auto &m) { return m.second == Modality::Image; }));

        const auto in = queueInput(db, m_collection, {v, std::nullopt});
        QCOMPARE(in.queries.size(), m_lists.size());
        const auto &q0 = in.queries.front();
        QCOMPARE(q0.id, std::to_string(list.queryId));
        QCOMPARE(q0.candidates.back().score, double(list.items.size() - 1)); // the version's scores
        QVERIFY(!q0.candidates.front().otherScore);
        const auto both = queueInput(db, m_collection, {std::nullopt, v});
        QVERIFY(both.queries.front().candidates.front().otherScore.has_value());
    }

    void statusFollowsLabels()
    {
        auto &db = m_project->db();
        const auto q = m_lists[2].queryId;
        const auto a = m_lists[2].items[0].candidateId, b = m_lists[2].items[1].candidateId;
        const auto before = queryStatus(db, m_collection)[q];
        LabelWriter writer(m_file);
        LabelHistory history(writer);
        QVERIFY(history.addGraded({q, a, 1, "ann"}));
        QVERIFY(history.addGraded({q, a, 3, "ann"}));
        QVERIFY(history.addPair({q, a, b, PairOutcome::Left, "ann", PairSource::Human, false, "random"}));
        auto now = queryStatus(db, m_collection)[q];
        QCOMPARE(now.pairLabels, before.pairLabels + 1);
        QCOMPARE(currentGrades(db, q).at(a), 3);
        const auto in = queueInput(db, m_collection, {});
        QVERIFY(std::any_of(in.judged.begin(), in.judged.end(), [&](const auto &j) {
            return j.annotator == "ann" && j.queryId == std::to_string(q) && j.a == std::to_string(a);
        }));
        QVERIFY(history.undo());
        QVERIFY(history.undo());
        QCOMPARE(queryStatus(db, m_collection)[q].pairLabels, before.pairLabels);
        QCOMPARE(currentGrades(db, q).at(a), 1); // the older label is current again
    }
};

QTEST_GUILESS_MAIN(TestBrowse)
#include "test_browse.moc"
