// SPDX-License-Identifier: GPL-3.0-or-later
// End to end against transformers, as a user scores: `unirank-cli random-checkpoint` rebuilds a
// checkpoint laid out like Qwen2-VL-2B-Instruct on the Hub (full width, 2 decoder layers and 2 vision
// blocks, bf16 in three shards with model.safetensors.index.json, tied head, the real tokenizer, the
// Hub's preprocessor limits), then `unirank-cli score` ranks tests/data/reference/hybrid (text, image
// and text+image candidates, a 1000x1300 drawing, an image query) with UniRank's built-in template and
// MonoQwen2-VL's, in fp32 from the bf16 files, with and without the prefix cache. Every margin must
// equal transformers 4.45.1's (margins_2b.json, made by tools/golden/make-hybrid-reference.sh).
//
// Tolerances: see reference_margins.h.
#include "reference_margins.h"

#include <QTemporaryDir>

using namespace unirank;
using nlohmann::json;
namespace fs = std::filesystem;

class TestReferenceScores : public QObject {
    Q_OBJECT
    QTemporaryDir m_tmp;
    json m_reference;
    fs::path m_data, m_model;

    void scoreAndCompare(const std::string &templateName, const fs::path &modelDir, const QStringList &extra)
    {
        const auto out = fs::path(m_tmp.path().toStdString()) / (templateName + extra.join("").toStdString() + ".trec");
        // The reference used the folder's own preprocessor limits (12.8 MP), not our default cap.
        const auto pairs = test::scoreAndCompare(UNIRANK_CLI, m_reference, templateName, modelDir, m_data, out,
                                                 QStringList{"--max-pixels", "12845056"} + extra);
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
        test::rebuildCheckpoint(UNIRANK_CLI, m_reference, m_model);
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
