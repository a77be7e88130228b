// SPDX-License-Identifier: GPL-3.0-or-later
// Metrics against trec_eval. The fixture has a score tie, graded labels, an unjudged document, a
// qrels query missing from the run, a run query missing from the qrels, a query without relevant
// documents and a single-candidate list. Expected values were hand-computed and confirmed with
// trec_eval 10.0 (usnistgov/trec_eval f425365, built locally, not vendored):
//   trec_eval -q -m P.1,5 -m recall.1,5 -m success.1,5 -m recip_rank -m map -m ndcg_cut.5 qrels run
//   trec_eval -c -m P.1 -m map -m ndcg_cut.5 qrels run      (all: 0.4000 0.4333 0.4367)
//   trec_eval -l2 -q -m P.1 -m map qrels run                (q1: 1.0000 0.5000)
#include "core/eval/metrics.h"
#include "core/formats/trec.h"
#include "core/util/error.h"
#include "test_support.h"

#include <QTemporaryDir>
#include <QTest>

using namespace unirank;
using namespace unirank::eval;

namespace {

const char *kQrels = "q1 0 d1 2\nq1 0 d2 0\nq1 0 d3 1\nq1 0 d4 3\nq2 0 e1 1\nq3 0 f1 1\nq5 0 g1 0\nq6 0 h1 1\n";
const char *kRun = "q1 Q0 d1 1 0.9 r\nq1 Q0 d2 2 0.8 r\nq1 Q0 d3 3 0.8 r\nq1 Q0 d5 4 0.5 r\n"
                   "q2 Q0 e2 1 0.7 r\nq2 Q0 e1 2 0.3 r\nq4 Q0 z1 1 0.3 r\nq5 Q0 g1 1 0.5 r\nq6 Q0 h1 1 1.0 r\n";

double perQuery(const RunEvaluation &e, const std::string &query, const std::string &metric)
{
    const auto values = e.perQueryValues(metric);
    for (std::size_t i = 0; i < e.perQuery.size(); ++i)
        if (e.perQuery[i].queryId == query)
            return values[i];
    throw std::runtime_error("no query " + query);
}

} // namespace

class TestEvalMetrics : public QObject {
    Q_OBJECT
    QTemporaryDir m_tmp;
    Qrels m_qrels;
    Run m_run;

private slots:
    void initTestCase()
    {
        const std::filesystem::path dir = m_tmp.path().toStdString();
        test::writeText(dir / "qrels", kQrels);
        test::writeText(dir / "run", kRun);
        m_qrels = toQrels(readQrels(dir / "qrels", {0, 100}));
        m_run = toRun(readRun(dir / "run"));
    }

    void tiesBreakByDescendingDocId()
    {
        const auto sorted = sortedLikeTrecEval(m_run.at("q1"));
        QCOMPARE(sorted[1].first, std::string("d3")); // d2 and d3 tie at 0.8: "d3" > "d2" comes first
        QCOMPARE(sorted[2].first, std::string("d2"));
    }

    void perQueryValuesMatchTrecEval()
    {
        EvalOptions o;
        o.metrics = {"P_1", "P_5", "recall_1", "recall_5", "success_1", "success_5", "recip_rank", "map", "ndcg_cut_5",
                     "num_ret", "num_rel", "num_rel_ret", "recip_rank_cut_1"};
        const auto e = evaluateRun(m_qrels, m_run, o);
        QCOMPARE(e.evaluatedQueries, std::size_t(4)); // q1 q2 q5 q6; q3 missing from the run, q4 not judged
        const auto near = [](double a, double b) { return std::abs(a - b) < 1e-12; };
        QVERIFY(near(perQuery(e, "q1", "P_1"), 1.0));
        QVERIFY(near(perQuery(e, "q1", "P_5"), 0.4));
        QVERIFY(near(perQuery(e, "q1", "recall_1"), 1.0 / 3));
        QVERIFY(near(perQuery(e, "q1", "recall_5"), 2.0 / 3));
        QVERIFY(near(perQuery(e, "q1", "map"), 2.0 / 3));
        QVERIFY(near(perQuery(e, "q1", "ndcg_cut_5"), (2 + 1 / std::log2(3.0)) / (3 + 2 / std::log2(3.0) + 0.5)));
        QCOMPARE(QString::number(perQuery(e, "q1", "ndcg_cut_5"), 'f', 4), QString("0.5525")); // trec_eval's print
        QVERIFY(near(perQuery(e, "q1", "num_ret"), 4) && near(perQuery(e, "q1", "num_rel"), 3) &&
                near(perQuery(e, "q1", "num_rel_ret"), 2));
        QVERIFY(near(perQuery(e, "q2", "recip_rank"), 0.5));
        QVERIFY(near(perQuery(e, "q2", "recip_rank_cut_1"), 0.0));
        QVERIFY(near(perQuery(e, "q2", "success_1"), 0.0) && near(perQuery(e, "q2", "success_5"), 1.0));
        QVERIFY(near(perQuery(e, "q2", "P_5"), 0.2));
        QVERIFY(near(perQuery(e, "q2", "ndcg_cut_5"), 1 / std::log2(3.0)));
        QVERIFY(near(perQuery(e, "q5", "map"), 0.0) && near(perQuery(e, "q5", "num_rel"), 0));
        QVERIFY(near(perQuery(e, "q6", "P_5"), 0.2) && near(perQuery(e, "q6", "ndcg_cut_5"), 1.0)); // single candidate
        QVERIFY(near(e.value("P_1"), (1 + 0 + 0 + 1) / 4.0));
    }

    void completeAveragesOverEveryQrelsQuery()
    {
        EvalOptions o;
        o.complete = true;
        o.metrics = {"P_1", "map", "ndcg_cut_5"};
        const auto e = evaluateRun(m_qrels, m_run, o);
        QCOMPARE(e.evaluatedQueries, std::size_t(5));
        QCOMPARE(QString::number(e.value("P_1"), 'f', 4), QString("0.4000"));
        QCOMPARE(QString::number(e.value("map"), 'f', 4), QString("0.4333"));
        QCOMPARE(QString::number(e.value("ndcg_cut_5"), 'f', 4), QString("0.4367"));
        const auto q3 = std::find_if(e.perQuery.begin(), e.perQuery.end(), [](const QueryValues &q) { return q.queryId == "q3"; });
        QVERIFY(q3 != e.perQuery.end() && !q3->inRun);
    }

    void relevanceLevel()
    {
        EvalOptions o;
        o.relevanceLevel = 2;
        o.metrics = {"P_1", "map", "ndcg_cut_5"};
        const auto e = evaluateRun(m_qrels, m_run, o);
        QCOMPARE(perQuery(e, "q1", "map"), 0.5);
        QCOMPARE(perQuery(e, "q1", "P_1"), 1.0);
        // Gains do not depend on the relevance level.
        QCOMPARE(QString::number(perQuery(e, "q1", "ndcg_cut_5"), 'f', 4), QString("0.5525"));
    }

    void emptyRunAndBadInput()
    {
        const auto empty = evaluateRun(m_qrels, {}, {});
        QCOMPARE(empty.evaluatedQueries, std::size_t(0));
        EvalOptions complete;
        complete.complete = true;
        QCOMPARE(evaluateRun(m_qrels, {}, complete).value("map"), 0.0);
        QVERIFY_THROWS_EXCEPTION(InputError, checkMetricName("ndcg_cut_x"));
        QVERIFY_THROWS_EXCEPTION(InputError, checkMetricName("P_0"));
        QVERIFY_THROWS_EXCEPTION(InputError, checkMetricName("bpref"));
        const std::filesystem::path dir = m_tmp.path().toStdString();
        test::writeText(dir / "dup", "q1 Q0 d1 1 0.5 r\nq1 Q0 d1 2 0.4 r\n");
        try {
            readRun(dir / "dup");
            QFAIL("a duplicate was accepted");
        } catch (const InputError &e) {
            QVERIFY2(QString(e.what()).contains("dup:2"), e.what());
        }
        test::writeText(dir / "short", "q1 Q0 d1 1\n");
        try {
            readRun(dir / "short");
            QFAIL("a short line was accepted");
        } catch (const InputError &e) {
            QVERIFY2(QString(e.what()).contains("short:1"), e.what());
        }
    }
};

QTEST_GUILESS_MAIN(TestEvalMetrics)
#include "test_eval_metrics.moc"
