// SPDX-License-Identifier: GPL-3.0-or-later
// The model commands of unirank-cli in the exact forms the issue names: tokenize (stdin lines to id
// arrays), preprocess (safetensors out, equal to the golden pixel_values), parity (--json, exit codes).
#include "cli_run.h"
#include "test_support.h"

#include <nlohmann/json.hpp>

#include <QDir>
#include <map>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

using Run = unirank::test::CliRun;

Run cli(const QStringList &args, const QByteArray &stdinData = {})
{
    return unirank::test::runCli(QStringLiteral(UNIRANK_CLI), args, {300000, stdinData, false});
}

QString golden(const std::string &rel)
{
    return QString::fromStdString((unirank::test::goldenDir() / rel).string());
}

/// One tensor's raw bytes from a safetensors file.
QByteArray tensorBytes(const QString &file, const std::string &name)
{
    QFile f(file);
    if (!f.open(QIODevice::ReadOnly))
        return {};
    const auto raw = f.readAll();
    std::uint64_t n = 0;
    std::memcpy(&n, raw.constData(), 8);
    const auto header = json::parse(raw.mid(8, static_cast<qsizetype>(n)).toStdString());
    const auto &off = header.at(name).at("data_offsets");
    return raw.mid(static_cast<qsizetype>(8 + n + off[0].get<std::uint64_t>()),
                   static_cast<qsizetype>(off[1].get<std::uint64_t>() - off[0].get<std::uint64_t>()));
}

} // namespace

class TestCliModel : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;

private slots:
    void tokenize()
    {
        const auto r = cli({"tokenize", "--tokenizer", golden("tiny_tokenizer/tokenizer.json")},
                           "\"yes\"\n\"A red apple on a table\"\n\"\"\n");
        QCOMPARE(r.code, 0);
        QCOMPARE(r.out, QString("[257]\n[65,32,114,271,315,112,382,32,259,315,263,97,98,261]\n[]\n"));
        const auto bad = cli({"tokenize", "--tokenizer", golden("tiny_tokenizer/tokenizer.json")}, "\"ok\"\nnot json\n");
        QCOMPARE(bad.code, 1);
        QVERIFY2(bad.err.contains("stdin:2"), qPrintable(bad.err));
    }

    void preprocessMatchesTheReference()
    {
        const auto out = m_dir.filePath("c.safetensors");
        const auto r = cli({"preprocess", "--image", golden("images/img_c_200x150.png"), "--min-pixels", "3136",
                            "--max-pixels", "25088", "--out", out});
        QCOMPARE(r.code, 0);
        const auto ours = tensorBytes(out, "pixel_values");
        QCOMPARE(ours.size(), qsizetype(96 * 1176 * 4));
        QVERIFY(ours == tensorBytes(golden("image_processor/pixel_values.safetensors"), "img_c_200x150.pixel_values"));
        QVERIFY(tensorBytes(out, "image_grid_thw") ==
                tensorBytes(golden("image_processor/pixel_values.safetensors"), "img_c_200x150.image_grid_thw"));
        const auto missing = cli({"preprocess", "--image", m_dir.filePath("none.png"), "--out", out});
        QCOMPARE(missing.code, 1);
        QVERIFY(missing.err.contains("none.png"));
    }

    void scoreDatasetAndProject()
    {
        const auto model = QString::fromStdString((unirank::test::sourceDir() / "resources/models/tiny-random").string());
        const auto smoke = QString::fromStdString(unirank::test::smokeDataset().string());
        const auto runA = m_dir.filePath("a.trec");
        const auto r = cli({"score", "--model", model, "--dataset", smoke, "--out", runA, "--batch-size", "5"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QFile f(runA);
        QVERIFY(f.open(QIODevice::ReadOnly));
        const auto lines = QString::fromUtf8(f.readAll()).split('\n', Qt::SkipEmptyParts);
        QCOMPARE(lines.size(), 599); // every first-stage pair of the smoke set
        // Strictly decreasing scores within each query, ranks 1..n.
        QString query;
        double previous = 0;
        int rank = 0;
        for (const auto &line : lines) {
            const auto cols = line.split(' ');
            QCOMPARE(cols.size(), 6);
            const double score = cols[4].toDouble();
            if (cols[0] != query) {
                query = cols[0];
                rank = 0;
            } else {
                QVERIFY2(score < previous, qPrintable(line));
            }
            QCOMPARE(cols[3].toInt(), ++rank);
            previous = score;
        }
        // The same lists from a project give the same run, and the run is stored there.
        const auto project = m_dir.filePath("s.unirank");
        QCOMPARE(cli({"init", project}).code, 0);
        QCOMPARE(cli({"import", project, "--dataset", smoke}).code, 0);
        const auto runB = m_dir.filePath("b.trec");
        const auto p = cli({"score", "--model", model, "--project", project, "--out", runB, "--no-prefix-cache"});
        QVERIFY2(p.code == 0, qPrintable(p.err));
        QVERIFY(p.err.contains("stored score run"));
        QFile g(runB);
        QVERIFY(g.open(QIODevice::ReadOnly));
        const auto linesB = QString::fromUtf8(g.readAll()).split('\n', Qt::SkipEmptyParts);
        QCOMPARE(linesB.size(), lines.size());
        // Same pairs with the same scores within float noise (near-ties may swap places).
        std::map<QString, double> scoresA;
        for (const auto &line : lines)
            scoresA[line.section(' ', 0, 0) + " " + line.section(' ', 2, 2)] = line.section(' ', 4, 4).toDouble();
        for (const auto &line : linesB) {
            const auto key = line.section(' ', 0, 0) + " " + line.section(' ', 2, 2);
            QVERIFY(scoresA.contains(key));
            QVERIFY(std::abs(scoresA[key] - line.section(' ', 4, 4).toDouble()) < 1e-4);
        }
        const auto stats = cli({"stats", project, "--json"});
        const auto j = json::parse(stats.out.toStdString());
        QCOMPARE(j.at("score_runs").get<int>(), 1);
        QCOMPARE(j.at("model_versions").get<int>(), 1);
        QCOMPARE(cli({"score", "--model", model, "--out", runB}).code, 1); // neither --dataset nor --project
        const auto noModel = cli({"score", "--model", m_dir.filePath("nothing"), "--dataset", smoke, "--out", runB});
        QCOMPARE(noModel.code, 1);
        QVERIFY2(noModel.err.contains("config.json"), qPrintable(noModel.err));
    }

    void benchScoreRuns()
    {
        const auto r = cli({"bench", "score", "--queries", "1", "--candidates", "2", "--json", "--dataset",
                            QString::fromStdString(unirank::test::smokeDataset().string()), "--model",
                            QString::fromStdString((unirank::test::sourceDir() / "resources/models/tiny-random").string())});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        const auto j = json::parse(r.out.toStdString());
        for (const auto *key : {"text", "text_no_prefix_cache", "text_as_image", "image_cold_cache", "image_warm_cache"})
            QVERIFY2(j.at(key).at("pairs").get<int>() > 0, key);
        QVERIFY(j.at("gemm_peak_gflops").get<double>() > 0);
        QVERIFY(j.at("text_as_image").at("tokens_per_pair").get<double>() > 0);
    }

    void evalCommand()
    {
        const auto smoke = QString::fromStdString(unirank::test::smokeDataset().string());
        const auto qrels = smoke + "/qrels.tsv", run = smoke + "/run.trec";
        // Values confirmed with trec_eval 10.0 on the same files (map 0.7476, recip_rank 0.8798, P_5 0.6100,
        // recall_10 0.6912, ndcg_cut_10 0.7453, success_1 0.8500).
        const auto r = cli({"eval", "--qrels", qrels, "--run", run, "--run", run, "--metrics",
                            "map,recip_rank,P_5,recall_10,ndcg_cut_10,success_1", "--per-query", "--corpus", smoke,
                            "--json", "--permutations", "1000"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        const auto j = json::parse(r.out.toStdString());
        const auto &mean = j.at("runs")[0].at("mean");
        const auto four = [](double v) { return QString::number(v, 'f', 4); };
        QCOMPARE(four(mean.at("map").get<double>()), QString("0.7476"));
        QCOMPARE(four(mean.at("recip_rank").get<double>()), QString("0.8798"));
        QCOMPARE(four(mean.at("P_5").get<double>()), QString("0.6100"));
        QCOMPARE(four(mean.at("recall_10").get<double>()), QString("0.6912"));
        QCOMPARE(four(mean.at("ndcg_cut_10").get<double>()), QString("0.7453"));
        QCOMPARE(four(mean.at("success_1").get<double>()), QString("0.8500"));
        QCOMPARE(j.at("runs")[0].at("per_query").size(), std::size_t(20));
        QVERIFY(j.at("runs")[0].contains("modality_bias"));
        QCOMPARE(j.at("runs")[1].at("name").get<std::string>(), std::string("run#2"));
        for (const auto &c : j.at("comparisons")) // a run against itself: no difference, p = 1
            QCOMPARE(c.at("p").get<double>(), 1.0);
        const auto text = cli({"eval", "--qrels", qrels, "--run", run});
        QVERIFY(text.out.contains("success_1") && text.out.contains("Recall@k as UniRank reports it is success_k"));
        // Bad input names the file and line; an unknown metric is refused.
        const auto bad = m_dir.filePath("bad.trec");
        QFile f(bad);
        QVERIFY(f.open(QIODevice::WriteOnly));
        f.write("q Q0 d 1 0.5 r\nq Q0 d 2 0.4 r\n");
        f.close();
        const auto dup = cli({"eval", "--qrels", qrels, "--run", bad});
        QCOMPARE(dup.code, 1);
        QVERIFY2(dup.err.contains("bad.trec:2"), qPrintable(dup.err));
        QCOMPARE(cli({"eval", "--qrels", qrels, "--run", run, "--metrics", "bpref"}).code, 1);
    }

    void parityJson()
    {
        const auto r = cli({"parity", "--model", golden("model_a"), "--golden", golden(""), "--json"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        const auto j = json::parse(r.out.toStdString());
        QCOMPARE(j.at("cases").size(), std::size_t(5));
        for (const auto &c : j.at("cases")) {
            QVERIFY(c.at("tensors").at("logits").at("max_abs").get<double>() < 1e-4);
            QCOMPARE(c.at("tensors").at("position_ids").at("max_abs").get<double>(), 0.0);
        }
        // A copy of the checkpoint with one merger weight moved by 0.01 fails, with exit code 1.
        const auto nudged = m_dir.filePath("nudged");
        QDir().mkpath(nudged);
        QFile::copy(golden("model_a/config.json"), nudged + "/config.json");
        QFile f(golden("model_a/model.safetensors"));
        QVERIFY(f.open(QIODevice::ReadOnly));
        auto raw = f.readAll();
        std::uint64_t n = 0;
        std::memcpy(&n, raw.constData(), 8);
        const auto header = json::parse(raw.mid(8, static_cast<qsizetype>(n)).toStdString());
        const auto at = static_cast<qsizetype>(8 + n + header.at("visual.merger.mlp.2.weight").at("data_offsets")[0].get<std::uint64_t>());
        float w = 0;
        std::memcpy(&w, raw.constData() + at, 4);
        w += 0.01f;
        std::memcpy(raw.data() + at, &w, 4);
        QFile out(nudged + "/model.safetensors");
        QVERIFY(out.open(QIODevice::WriteOnly) && out.write(raw) == raw.size());
        out.close();
        const auto failed = cli({"parity", "--model", nudged, "--golden", golden("")});
        QCOMPARE(failed.code, 1);
        QVERIFY2(failed.out.contains("past tolerance"), qPrintable(failed.out));

        const auto badDevice = cli({"parity", "--model", golden("model_a"), "--golden", golden(""), "--dtype", "fp8"});
        QCOMPARE(badDevice.code, 1);
        const auto badModel = cli({"parity", "--model", golden("cases_a"), "--golden", golden("")});
        QCOMPARE(badModel.code, 1);
        QVERIFY2(badModel.err.contains("config.json"), qPrintable(badModel.err));
    }
};

QTEST_GUILESS_MAIN(TestCliModel)
#include "test_cli_model.moc"
