// SPDX-License-Identifier: GPL-3.0-or-later
// Evaluating a project collection: the report equals core/eval on the same labels and runs, results
// are stored with each score run (and not with --no-store), and unknown model versions are refused.
#include "storage/dataset_import.h"
#include "storage/project_eval.h"
#include "storage/repo/catalog.h"
#include "storage/repo/judgements.h"
#include "storage/score_store.h"
#include "test_support.h"

#include "test_backend.h"

#include <QTemporaryDir>
#include <QTest>

using namespace unirank;
using namespace unirank::storage;

class TestProjectEval : public QObject {
    Q_OBJECT
    QTemporaryDir m_tmp;
    std::unique_ptr<Project> m_project;
    std::int64_t m_collection = 0, m_run = 0;

private slots:
    void initTestCase()
    {
        m_project = test::freshProject(std::filesystem::path(m_tmp.path().toStdString()), "e");
        QVERIFY(importDataset(*m_project, test::smokeDataset(), {}).has_value());
        m_collection = listCollections(m_project->db()).front().id;
        // A "model" that reverses the first-stage order.
        std::vector<ScoredItem> items;
        for (const auto &list : firstStageLists(*m_project, m_collection))
            for (std::size_t i = 0; i < list.items.size(); ++i)
                items.push_back({list.queryId, list.items[i].candidateId, static_cast<double>(i)});
        const auto version = ensureModelVersion(m_project->db(), "reverse", ModelKind::Base, "/nowhere", "hash-r");
        m_run = storeScoreRun(m_project->db(), version, m_collection, {{"score", "test"}}, items);
    }

    void reportMatchesCoreEval()
    {
        ProjectEvalOptions o;
        o.report.eval.metrics = {"map", "ndcg_cut_10", "success_1"};
        o.report.permutations = 500;
        auto report = evaluateProject(*m_project, o);
        QVERIFY2(report.has_value(), report ? "" : report.error().message.c_str());
        const auto &runs = report->json.at("runs");
        QCOMPARE(runs.size(), std::size_t(2)); // the first stage and the one model version
        const auto qrels = eval::toQrels(currentQrels(m_project->db(), m_collection));
        const auto run = eval::toRun(scoreRunEntries(m_project->db(), m_run));
        const auto direct = eval::evaluateRun(qrels, run, o.report.eval);
        QCOMPARE(runs[1].at("mean").at("map").get<double>(), direct.value("map"));
        QVERIFY(runs[1].at("mean").at("map").get<double>() < runs[0].at("mean").at("map").get<double>());
        QVERIFY(runs[1].contains("modality_bias"));
        const auto stored = listEvaluations(m_project->db(), m_run);
        QCOMPARE(stored.size(), std::size_t(1));
        QCOMPARE(stored[0].results.at("mean").at("map").get<double>(), direct.value("map"));
        QCOMPARE(stored[0].results.at("comparisons").size(), std::size_t(3));

        o.store = false;
        QVERIFY(evaluateProject(*m_project, o).has_value());
        QCOMPARE(listEvaluations(m_project->db(), m_run).size(), std::size_t(1));
    }

    void chosenBaseline()
    {
        ProjectEvalOptions o;
        o.report.eval.metrics = {"map"};
        o.report.permutations = 200;
        o.store = false;
        o.baseline = "reverse";
        auto report = evaluateProject(*m_project, o);
        QVERIFY2(report.has_value(), report ? "" : report.error().message.c_str());
        QCOMPARE(report->json.at("runs")[0].at("name").get<std::string>(), std::string("reverse"));
        const auto &c = report->json.at("comparisons")[0];
        QCOMPARE(c.at("baseline").get<std::string>(), std::string("reverse"));
        QVERIFY(c.at("mean_difference").get<double>() > 0); // the first stage beats its reversal
        o.baseline = "missing";
        QVERIFY(!evaluateProject(*m_project, o));
    }

    void teamAgreementOfHumanLabels()
    {
        auto p = test::freshProject(std::filesystem::path(m_tmp.path().toStdString()), "team");
        const auto tiny = std::filesystem::path(m_tmp.path().toStdString()) / "team-data";
        test::makeTinyDataset(tiny);
        QVERIFY(importDataset(*p, tiny, {}));
        auto &db = p->db();
        const auto c = listCollections(db).front().id;
        const auto q = listQueries(db, c).front().id;
        const auto cands = listCandidates(db, c);
        QCOMPARE(teamAgreement(db, c).units, std::size_t(0));
        const auto ann = ensureAnnotator(db, "ann"), bob = ensureAnnotator(db, "bob");
        const auto pair = [&](std::size_t i, std::size_t j, PairOutcome o, std::optional<std::int64_t> who, PairSource s) {
            insertPairLabel(db, {q, cands[i].id, cands[j].id, o, who, s, false, ""});
        };
        pair(0, 1, PairOutcome::Left, ann, PairSource::Human);
        pair(1, 0, PairOutcome::Right, bob, PairSource::Human); // the same preference, sides swapped
        pair(1, 2, PairOutcome::Left, ann, PairSource::Human);
        pair(1, 2, PairOutcome::Right, bob, PairSource::Human);
        pair(0, 2, PairOutcome::Left, std::nullopt, PairSource::Mined); // not an analyst's
        const auto a = teamAgreement(db, c);
        QCOMPARE(a.units, std::size_t(2));
        QCOMPARE(a.judgements, std::size_t(4));
        QVERIFY(a.alpha.has_value());
        QVERIFY(*a.alpha < 1.0); // one agreement, one disagreement
    }

    void unknownModelVersion()
    {
        ProjectEvalOptions o;
        o.modelVersions = {"nope"};
        auto r = evaluateProject(*m_project, o);
        QVERIFY(!r);
        QVERIFY2(r.error().message.find("'nope' has no score run") != std::string::npos, r.error().message.c_str());
    }
};

QTEST_GUILESS_MAIN(TestProjectEval)
#include "test_project_eval.moc"
