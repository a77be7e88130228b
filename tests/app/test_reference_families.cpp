// SPDX-License-Identifier: GPL-3.0-or-later
// End to end against transformers main for the two newer families, as a user scores: `unirank-cli
// random-checkpoint` rebuilds checkpoints laid out like Qwen2.5-VL-3B-Instruct and Qwen3-VL-2B-Instruct
// on the Hub (full width, 2 decoder layers; 8 vision blocks for Qwen2.5-VL so that windowed and
// full-attention blocks both run, 12 for Qwen3-VL so that two DeepStack levels feed the decoder; bf16
// shards, tied heads, the real tokenizer, each family's preprocessor_config.json), then `unirank-cli
// score` ranks tests/data/reference/hybrid with UniRank's built-in template and MonoQwen2-VL's, with and
// without the prefix cache. Every margin must equal transformers main's (margins_qwen2_5_vl.json,
// margins_qwen3_vl.json, made by tools/golden/make-families-reference.sh). Tolerances: see
// reference_margins.h.
#include "reference_margins.h"

#include <QTemporaryDir>

using namespace unirank;
using nlohmann::json;
namespace fs = std::filesystem;

class TestReferenceFamilies : public QObject {
    Q_OBJECT
    QTemporaryDir m_tmp;
    fs::path m_data;
    std::map<std::string, json> m_reference;

    fs::path modelDir(const std::string &family) const { return fs::path(m_tmp.path().toStdString()) / family; }

    void check(const std::string &family, const std::string &templateName, const QStringList &extra)
    {
        auto folder = modelDir(family);
        if (templateName != "unirank-default") { // a folder whose unirank_prompt.json is that template
            const auto linked = fs::path(m_tmp.path().toStdString()) / (family + "-" + templateName);
            if (!fs::exists(linked)) {
                fs::create_directories(linked);
                for (const auto &e : fs::directory_iterator(folder))
                    fs::create_symlink(e.path(), linked / e.path().filename());
                fs::copy_file(test::sourceDir() / "resources/prompts" / (templateName + ".json"), linked / "unirank_prompt.json");
            }
            folder = linked;
        }
        const auto out = fs::path(m_tmp.path().toStdString()) / (family + templateName + extra.join("").toStdString() + ".trec");
        // The reference used each folder's own preprocessor limits, not our default cap.
        const QStringList limit{"--max-pixels", family == "qwen3_vl" ? "16777216" : "12845056"};
        const auto pairs = test::scoreAndCompare(UNIRANK_CLI, m_reference.at(family), templateName, folder, m_data, out,
                                                 limit + extra);
        QCOMPARE(pairs, 34);
    }

private slots:
    void initTestCase()
    {
        QVERIFY(m_tmp.isValid());
        m_data = test::sourceDir() / "tests/data/reference/hybrid";
        for (const std::string family : {"qwen2_5_vl", "qwen3_vl"}) {
            m_reference[family] = json::parse(readWholeFile(m_data / ("margins_" + family + ".json")));
            test::rebuildCheckpoint(UNIRANK_CLI, m_reference[family], modelDir(family));
        }
    }

    void qwen25BuiltInTemplate() { check("qwen2_5_vl", "unirank-default", {}); }
    void qwen25WithoutPrefixCache() { check("qwen2_5_vl", "unirank-default", {"--no-prefix-cache"}); }
    void qwen25MonoQwenTemplate() { check("qwen2_5_vl", "monoqwen2-vl", {}); }
    void qwen3BuiltInTemplate() { check("qwen3_vl", "unirank-default", {}); }
    void qwen3WithoutPrefixCache() { check("qwen3_vl", "unirank-default", {"--no-prefix-cache"}); }
    void qwen3MonoQwenTemplate() { check("qwen3_vl", "monoqwen2-vl", {}); }
};

QTEST_GUILESS_MAIN(TestReferenceFamilies)
#include "test_reference_families.moc"
