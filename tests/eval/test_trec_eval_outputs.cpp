// SPDX-License-Identifier: GPL-3.0-or-later
// Every value the real trec_eval printed for tests/data/trec_eval (its outputs and the commands that
// made them are stored there: make-outputs.sh, trec_eval 10.0 built from source) equals UniRank's
// evaluateRun under the same name, per query and over all queries: P, recall, success, ndcg_cut at
// every default cutoff, map, recip_rank, num_ret, num_rel, num_rel_ret; with -c, -l2, and -M 10
// (whose recip_rank is UniRank's recip_rank_cut_10). trec_eval prints four decimals, so a value
// agrees when it is within half a unit of the last printed digit; counts agree exactly.
// One difference is trec_eval's own: with -c, its summary num_rel counts every qrels entry with rel > 0,
// whatever -l says (m_num_rel.c, te_calc_avg_num_rel), so under -c -l2 its "all" is not the sum of its
// per-query values. UniRank's summary is that sum; the test checks it against the per-query lines.
#include "core/eval/metrics.h"
#include "core/formats/trec.h"
#include "test_support.h"

#include <QTest>

#include <fstream>
#include <map>
#include <sstream>

using namespace unirank;
using namespace unirank::eval;
namespace fs = std::filesystem;

namespace {

fs::path dataDir() { return test::sourceDir() / "tests/data/trec_eval"; }

struct TrecEvalOutput {
    bool complete = false;
    int level = 1;
    int maxDocs = 0; ///< -M
    std::string qrels, run;
    std::map<std::string, std::map<std::string, double>> values; ///< measure -> query ("all") -> value
};

TrecEvalOutput readOutput(const fs::path &file)
{
    std::ifstream in(file);
    std::string line;
    std::getline(in, line); // "trec_eval ARGS..." as make-outputs.sh ran it
    std::istringstream command(line);
    std::vector<std::string> args;
    for (std::string a; command >> a;)
        args.push_back(a);
    TrecEvalOutput out;
    for (std::size_t i = 1; i < args.size(); ++i) {
        if (args[i] == "-c")
            out.complete = true;
        else if (args[i].rfind("-l", 0) == 0)
            out.level = std::stoi(args[i].substr(2));
        else if (args[i] == "-M")
            out.maxDocs = std::stoi(args[++i]);
        else if (args[i] == "-m")
            ++i;
        else if (args[i][0] != '-')
            (out.qrels.empty() ? out.qrels : out.run) = args[i];
    }
    while (std::getline(in, line)) {
        std::istringstream fields(line);
        std::string measure, query, value;
        fields >> measure >> query >> value;
        out.values[measure][query] = std::stod(value);
    }
    return out;
}

} // namespace

class TestTrecEvalOutputs : public QObject {
    Q_OBJECT

private slots:
    void sameValuesAsTrecEval_data()
    {
        QTest::addColumn<QString>("file");
        for (const auto &e : fs::directory_iterator(dataDir()))
            if (e.path().extension() == ".out")
                QTest::newRow(e.path().filename().c_str()) << QString::fromStdString(e.path().string());
    }

    void sameValuesAsTrecEval()
    {
        QFETCH(QString, file);
        const auto out = readOutput(file.toStdString());
        QVERIFY(!out.values.empty());
        const auto qrels = toQrels(readQrels(dataDir() / out.qrels, {-1, 3}));
        const auto run = toRun(readRun(dataDir() / out.run));
        EvalOptions options;
        options.complete = out.complete;
        options.relevanceLevel = out.level;
        // trec_eval's name -> UniRank's (the same, except recip_rank under -M 10).
        std::map<std::string, std::string> ours;
        for (const auto &[measure, byQuery] : out.values)
            ours[measure] = out.maxDocs == 10 && measure == "recip_rank" ? "recip_rank_cut_10" : measure;
        if (out.maxDocs != 0)
            QCOMPARE(out.maxDocs, 10);
        for (const auto &[measure, name] : ours)
            options.metrics.push_back(name);
        const auto e = evaluateRun(qrels, run, options);
        std::size_t compared = 0;
        for (const auto &[measure, byQuery] : out.values) {
            const auto &name = ours.at(measure);
            const bool count = measure.rfind("num_", 0) == 0;
            const auto values = e.perQueryValues(name);
            for (const auto &[query, expected] : byQuery) {
                double got = 0;
                if (query == "all") {
                    // trec_eval sums the counts over queries and averages the rest.
                    got = count ? e.value(name) * double(e.evaluatedQueries) : e.value(name);
                    if (measure == "num_rel" && out.complete && out.level != 1) {
                        double sum = 0; // trec_eval's summary ignores -l here (see above): its per-query sum
                        for (const auto &[q, v] : byQuery)
                            sum += q == "all" ? 0 : v;
                        QVERIFY2(expected != sum, "trec_eval's quirk is gone: drop this exception");
                        QCOMPARE(got, sum);
                        ++compared;
                        continue;
                    }
                } else {
                    const auto it = std::find_if(e.perQuery.begin(), e.perQuery.end(), [&](const QueryValues &q) { return q.queryId == query; });
                    QVERIFY2(it != e.perQuery.end(), (measure + " " + query + ": query not evaluated").c_str());
                    got = values[static_cast<std::size_t>(it - e.perQuery.begin())];
                }
                const double tolerance = count ? 1e-9 : 0.5e-4 + 1e-12;
                QVERIFY2(std::abs(got - expected) <= tolerance,
                         (measure + " " + query + ": trec_eval " + std::to_string(expected) + ", UniRank " + std::to_string(got)).c_str());
                ++compared;
            }
            QCOMPARE(byQuery.size(), e.perQuery.size() + 1); // the same queries, and "all"
        }
        QVERIFY(compared >= 20);
        qInfo("%zu values agree", compared);
    }
};

QTEST_GUILESS_MAIN(TestTrecEvalOutputs)
#include "test_trec_eval_outputs.moc"
