// SPDX-License-Identifier: GPL-3.0-or-later
// End to end against transformers, as a user scores: `unirank-cli random-checkpoint` rebuilds a
// checkpoint laid out like Qwen2-VL-2B-Instruct on the Hub (full width, 2 decoder layers and 2 vision
// blocks, bf16 in three shards with model.safetensors.index.json, tied head, the real tokenizer, the
// Hub's preprocessor limits), then `unirank-cli score` ranks tests/data/reference/hybrid (text, image
// and text+image candidates, a 1000x1300 drawing, an image query) with UniRank's built-in template and
// MonoQwen2-VL's, in fp32 from the bf16 files, with and without the prefix cache. Every margin must
// equal transformers 4.45.1's (margins_2b.json, made by tools/golden/make-hybrid-reference.sh).
//
// Tolerance from the data: the reference run in float64 moves each margin by at most S from its
// float32 value; an independent float32 implementation may differ by kIndependentFactor x S.
#include "cli_run.h"
#include "core/util/atomic_file.h"
#include "core/util/sha256.h"
#include "test_support.h"

#include <QTemporaryDir>
#include <QTest>

#include <nlohmann/json.hpp>

#include <fstream>
#include <sstream>

using namespace unirank;
using nlohmann::json;
namespace fs = std::filesystem;

namespace {

constexpr double kIndependentFactor = 10.0; // as core/model/parity.h

std::map<std::string, std::map<std::string, double>> readRun(const fs::path &file)
{
    std::map<std::string, std::map<std::string, double>> run;
    std::ifstream in(file);
    std::string q, q0, d, tag;
    int rank = 0;
    double score = 0;
    while (in >> q >> q0 >> d >> rank >> score >> tag)
        run[q][d] = score;
    return run;
}

} // namespace

class TestReferenceScores : public QObject {
    Q_OBJECT
    QTemporaryDir m_tmp;
    json m_reference;
    fs::path m_data, m_model;

    void scoreAndCompare(const std::string &templateName, const fs::path &modelDir, const QStringList &extra)
    {
        const auto &ref = m_reference.at("templates").at(templateName);
        double spread = 0;
        for (const auto &[q, docs] : ref.at("float32").items())
            for (const auto &[d, m] : docs.items())
                spread = std::max(spread, std::abs(m.get<double>() - ref.at("float64").at(q).at(d).get<double>()));
        QVERIFY(spread > 0);
        const double tolerance = kIndependentFactor * spread;
        const auto out = fs::path(m_tmp.path().toStdString()) / (templateName + extra.join("").toStdString() + ".trec");
        // The reference used the folder's own preprocessor limits (12.8 MP), not our default cap.
        QStringList args{"score", "--model", QString::fromStdString(modelDir.string()), "--dataset",
                         QString::fromStdString(m_data.string()), "--out", QString::fromStdString(out.string()),
                         "--max-pixels", "12845056"};
        const auto r = test::runCli(UNIRANK_CLI, args + extra, {.timeoutMs = 1200000});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        const auto run = readRun(out);
        double worst = 0;
        int pairs = 0;
        for (const auto &[q, docs] : ref.at("float32").items())
            for (const auto &[d, m] : docs.items()) {
                QVERIFY2(run.count(q) && run.at(q).count(d), qPrintable(QString::fromStdString(q + "/" + d + " not scored")));
                const double diff = std::abs(run.at(q).at(d) - m.get<double>());
                worst = std::max(worst, diff);
                QVERIFY2(diff <= tolerance, qPrintable(QString("%1 %2/%3: ours %4, transformers %5 (tolerance %6)")
                                                           .arg(QString::fromStdString(templateName), QString::fromStdString(q),
                                                                QString::fromStdString(d))
                                                           .arg(run.at(q).at(d), 0, 'g', 9)
                                                           .arg(m.get<double>(), 0, 'g', 9)
                                                           .arg(tolerance)));
                ++pairs;
            }
        qInfo("%s%s: %d pairs, max |margin - transformers| %.3g, tolerance %.3g (reference float64 spread %.3g)",
              templateName.c_str(), qPrintable(extra.join(" ")), pairs, worst, tolerance, spread);
        QCOMPARE(pairs, 34);
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_tmp.isValid());
        m_data = test::sourceDir() / "tests/data/reference/hybrid";
        m_reference = json::parse(readWholeFile(m_data / "margins_2b.json"));
        m_model = fs::path(m_tmp.path().toStdString()) / "model";
        // The checkpoint the reference scored, rebuilt from its seed.
        QStringList args = QString::fromStdString(m_reference.at("checkpoint").at("command").get<std::string>())
                               .split(' ', Qt::SkipEmptyParts);
        args << "--out" << QString::fromStdString(m_model.string());
        const auto r = test::runCli(UNIRANK_CLI, args, {.timeoutMs = 600000});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        for (const auto &[file, hash] : m_reference.at("checkpoint").at("sha256").items())
            QVERIFY2(sha256File(m_model / file) == hash.get<std::string>(),
                     qPrintable(QString::fromStdString(file + " differs from the checkpoint the reference scored: "
                                                              "the generator changed, rerun tools/golden/make-hybrid-reference.sh")));
        fs::copy_file(fs::path(UNIRANK_TEST_TOKENIZER), m_model / "tokenizer.json");
        fs::copy_file(test::goldenDir() / "tokenizer/tokenizer_config.json", m_model / "tokenizer_config.json");
    }

    void builtInTemplate() { scoreAndCompare("unirank-default", m_model, {}); }

    void builtInTemplateWithoutPrefixCache() { scoreAndCompare("unirank-default", m_model, {"--no-prefix-cache"}); }

    void monoQwenTemplate()
    {
        // MonoQwen2-VL's layout puts {query} after {candidate}: the shared prefix is the system turn only.
        const auto folder = fs::path(m_tmp.path().toStdString()) / "monoqwen";
        fs::create_directories(folder);
        for (const auto &e : fs::directory_iterator(m_model))
            fs::create_symlink(e.path(), folder / e.path().filename());
        fs::copy_file(test::sourceDir() / "resources/prompts/monoqwen2-vl.json", folder / "unirank_prompt.json");
        scoreAndCompare("monoqwen2-vl", folder, {});
    }
};

QTEST_GUILESS_MAIN(TestReferenceScores)
#include "test_reference_scores.moc"
