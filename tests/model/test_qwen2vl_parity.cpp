// SPDX-License-Identifier: GPL-3.0-or-later
// Reference parity of the whole model on the golden cases (float32, CPU), and that the check can fail:
// a checkpoint with one weight nudged must be caught.
#include "core/model/loader.h"
#include "core/model/parity.h"
#include "core/model/torch_io.h"
#include "test_support.h"

#include <QTemporaryDir>
#include <QTest>

using namespace unirank;
using namespace unirank::model;
namespace fs = std::filesystem;

class TestQwen2VLParity : public QObject {
    Q_OBJECT

private slots:
    void toleranceComesFromTheData()
    {
        auto spread = referenceRelativeSpread(test::goldenDir());
        QVERIFY(spread.has_value());
        // The largest relative spread recorded is float64 vs float32 last_hidden_state of single_image.
        QVERIFY(*spread > 1e-6 && *spread < 2e-6);
    }

    void everyGoldenCaseMatches()
    {
        auto report = runParity(test::goldenDir() / "model_a", test::goldenDir(), torch::kCPU, torch::kFloat32);
        QVERIFY2(report.has_value(), report ? "" : report.error().message.c_str());
        QCOMPARE(report->cases.size(), std::size_t(5));
        std::size_t compared = 0;
        for (const auto &c : report->cases) {
            for (const auto &t : c.tensors) {
                ++compared;
                QVERIFY2(t.ok, qPrintable(QString("%1 %2: %3 > %4").arg(QString::fromStdString(c.name),
                                                                         QString::fromStdString(t.name))
                                              .arg(t.maxAbs)
                                              .arg(t.tolerance)));
                if (t.name == "position_ids" || t.name == "rope_deltas" || t.name == "vision.rot_pos_emb")
                    QCOMPARE(t.maxAbs, 0.0);
            }
            // Every case compares logits, the last hidden state and each decoder layer.
            const auto has = [&](const std::string &n) {
                return std::any_of(c.tensors.begin(), c.tensors.end(), [&](const ParityTensor &t) { return t.name == n; });
            };
            QVERIFY(has("logits") && has("last_hidden_state") && has("decoder_layer.1") && has("position_ids"));
            if (c.name != "text_only")
                QVERIFY(has("vision.block.1") && has("image_embeds") && has("vision.patch_embed"));
        }
        QCOMPARE(compared, std::size_t(7 + 4 * 12));
        QVERIFY(report->ok());
    }

    void bf16WithinItsRounding()
    {
        // bf16 weights and activations, products on whichever CPU path gemm.h measured (widened to
        // float32 on Debian's libtorch): every tensor within 8 bf16 unit roundoffs of its magnitude.
        auto report = runParity(test::goldenDir() / "model_a", test::goldenDir(), torch::kCPU, torch::kBFloat16);
        QVERIFY2(report.has_value(), report ? "" : report.error().message.c_str());
        QCOMPARE(report->cases.size(), std::size_t(5));
        for (const auto &c : report->cases)
            for (const auto &t : c.tensors)
                QVERIFY2(t.ok, qPrintable(QString("%1 %2: %3 > %4").arg(QString::fromStdString(c.name),
                                                                         QString::fromStdString(t.name))
                                              .arg(t.maxAbs)
                                              .arg(t.tolerance)));
        // fp16 has no CPU kernels in libtorch: refused by name instead of failing mid-forward.
        auto half = runParity(test::goldenDir() / "model_a", test::goldenDir(), torch::kCPU, torch::kHalf);
        QVERIFY(!half.has_value());
        QVERIFY2(half.error().message.find("fp16") != std::string::npos, half.error().message.c_str());
    }

    void aNudgedWeightIsCaught()
    {
        QTemporaryDir tmp;
        const fs::path dir = tmp.path().toStdString();
        for (const auto *f : {"config.json", "preprocessor_config.json"})
            fs::copy_file(test::goldenDir() / "model_a" / f, dir / f);
        auto tensors = readSafetensors(test::goldenDir() / "model_a" / "model.safetensors");
        QVERIFY(tensors.has_value());
        // One merger weight moved by 1e-2: small, but far past the reference's own spread.
        (*tensors)["visual.merger.mlp.2.weight"][0][0] += 1e-2;
        std::vector<std::pair<std::string, torch::Tensor>> list(tensors->begin(), tensors->end());
        writeTensors(dir / "model.safetensors", list);
        auto report = runParity(dir, test::goldenDir(), torch::kCPU, torch::kFloat32);
        QVERIFY(report.has_value());
        QVERIFY(!report->ok());
        for (const auto &c : report->cases) {
            QCOMPARE(c.ok(), c.name == "text_only"); // text-only cases never touch the vision tower
            for (const auto &t : c.tensors)
                if (t.name == "image_embeds")
                    QVERIFY(!t.ok);
        }
    }
};

QTEST_GUILESS_MAIN(TestQwen2VLParity)
#include "test_qwen2vl_parity.moc"
