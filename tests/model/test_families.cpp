// SPDX-License-Identifier: GPL-3.0-or-later
// Qwen2.5-VL and Qwen3-VL pieces on their own (the end-to-end margins against transformers main are in
// test_reference_families): both config layouts and the family's errors, window order and learned
// position sampling against transformers' own formulation of them, interleaved M-RoPE's row choice,
// DeepStack touching image positions only, and save/load and PEFT adapters under each family's Hub
// names; intermediate tensors and preprocessed pixels against transformers main on tiny checkpoints
// (tests/data/golden/families).
#include "core/model/lm_loss.h"
#include "core/model/loader.h"
#include "core/model/parity.h"
#include "core/model/torch_io.h"
#include "core/model/lora.h"
#include "core/model/presets.h"
#include "core/model/random_checkpoint.h"
#include "core/model/vision_layout.h"
#include "core/vision/image_preprocess.h"
#include "test_support.h"

#include <QTemporaryDir>
#include <QTest>

#include <nlohmann/json.hpp>

using namespace unirank;
using namespace unirank::model;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

/// transformers' get_window_index, re-derived: pad each frame's merged grid to whole windows with
/// -100, read the windows in order, drop the padding.
std::vector<std::int64_t> paddedWindowOrder(std::int64_t h, std::int64_t w, std::int64_t side)
{
    const auto padH = side - h % side, padW = side - w % side;
    auto index = torch::arange(h * w, torch::kLong).view({h, w});
    index = torch::constant_pad_nd(index, {0, padW, 0, padH}, -100);
    const auto nh = (h + padH) / side, nw = (w + padW) / side;
    const auto flat = index.view({nh, side, nw, side}).permute({0, 2, 1, 3}).reshape({-1});
    const auto kept = flat.masked_select(flat != -100);
    return {kept.data_ptr<std::int64_t>(), kept.data_ptr<std::int64_t>() + kept.numel()};
}

/// A prompt of `text` tokens, an image block for a grid of (1, h, w) patches, and more text.
torch::Tensor promptWithImage(const Qwen2VLConfig &c, std::int64_t h, std::int64_t w)
{
    std::vector<std::int64_t> ids{1, 2, 3, c.tokens.visionStart};
    ids.insert(ids.end(), static_cast<std::size_t>(h * w / 4), c.tokens.imageToken);
    ids.insert(ids.end(), {c.tokens.visionEnd, 7, 8, 9});
    return torch::tensor(ids, torch::kLong).unsqueeze(0);
}

ForwardOutput run(Qwen2VL &model, const torch::Tensor &ids, std::int64_t h, std::int64_t w, std::uint64_t seed = 3)
{
    torch::manual_seed(seed);
    const auto &v = model->config().vision;
    ForwardInput in;
    in.inputIds = ids;
    in.pixelValues = torch::randn({h * w, v.patchFeatures()});
    in.imageGridThw = torch::tensor({std::int64_t(1), h, w}, torch::kLong).view({1, 3});
    in.logitPositions = allPositions(1, ids.size(1));
    in.keepHidden = true;
    return forward(model, in);
}

} // namespace

class TestFamilies : public QObject {
    Q_OBJECT
    QTemporaryDir m_tmp;
    fs::path dir() const { return m_tmp.path().toStdString(); }

private slots:
    void configRoundTrip_data()
    {
        QTest::addColumn<int>("family");
        QTest::newRow("qwen2.5-vl") << int(Family::Qwen2_5VL);
        QTest::newRow("qwen3-vl") << int(Family::Qwen3VL);
    }

    void configRoundTrip()
    {
        QFETCH(int, family);
        const auto c = family == int(Family::Qwen3VL) ? qwen3vl2bConfig(2, 12) : qwen2_5vl3bConfig(2, 8);
        const auto j = c.toJson();
        QCOMPARE(j.at("model_type").get<std::string>(), std::string(familyModelType(c.family())));
        QCOMPARE(j.contains("text_config"), c.family() == Family::Qwen3VL); // each family's Hub layout
        auto back = Qwen2VLConfig::fromJson(j, "config.json");
        QVERIFY2(back.has_value(), back ? "" : back.error().message.c_str());
        QCOMPARE(back->toJson().dump(), j.dump());
        QVERIFY(back->family() == c.family());
        QCOMPARE(back->vision.mlpHidden(), c.vision.mlpHidden());
        QCOMPARE(back->vision.embedDim, c.vision.embedDim);
        QCOMPARE(back->vision.hiddenSize, c.text.hiddenSize);
        QVERIFY(back->vision.fullAttentionBlocks == c.vision.fullAttentionBlocks);
        QVERIFY(back->vision.deepstackIndexes == c.vision.deepstackIndexes);
        QCOMPARE(back->text.headDim, std::int64_t(128));
        QCOMPARE(back->text.qkNorm, c.family() == Family::Qwen3VL);
        QCOMPARE(back->text.mropeInterleaved, c.family() == Family::Qwen3VL);
        QCOMPARE(back->text.qkvBias, c.family() != Family::Qwen3VL);
    }

    void qwen3FlatLayout()
    {
        // The same Qwen3-VL config with the decoder's keys at the top level (a flat layout).
        auto j = qwen3vl2bConfig(2, 12).toJson();
        for (const auto &[k, v] : j.at("text_config").items())
            if (!j.contains(k))
                j[k] = v;
        j.erase("text_config");
        auto c = Qwen2VLConfig::fromJson(j, "flat.json");
        QVERIFY2(c.has_value(), c ? "" : c.error().message.c_str());
        QCOMPARE(c->text.headDim, std::int64_t(128));
        QCOMPARE(c->text.numKvHeads, std::int64_t(8));
        QVERIFY(c->text.mropeSection == (std::array<std::int64_t, 3>{24, 20, 20}));
        QCOMPARE(c->text.ropeTheta, 5e6);
    }

    void configErrors_data()
    {
        QTest::addColumn<int>("family");
        QTest::addColumn<QString>("path");
        QTest::addColumn<QString>("value");
        QTest::addColumn<QString>("expected");
        const int q25 = int(Family::Qwen2_5VL), q3 = int(Family::Qwen3VL);
        QTest::newRow("no tower width") << q3 << "/vision_config/hidden_size" << "null" << "vision_config.hidden_size': missing";
        QTest::newRow("no merger width") << q25 << "/vision_config/out_hidden_size" << "null" << "out_hidden_size': missing";
        QTest::newRow("merger width") << q3 << "/vision_config/out_hidden_size" << "1024" << "must equal the text hidden_size";
        QTest::newRow("deepstack") << q3 << "/vision_config/deepstack_visual_indexes" << "[5, 40]" << "block 40 is outside the 12 blocks";
        QTest::newRow("full attention") << q25 << "/vision_config/fullatt_block_indexes" << "[9]" << "block 9 is outside";
        QTest::newRow("act") << q3 << "/vision_config/hidden_act" << "\"silu\"" << "only 'gelu_pytorch_tanh'";
        QTest::newRow("positions") << q3 << "/vision_config/num_position_embeddings" << "2000" << "must be a square";
        QTest::newRow("window") << q25 << "/vision_config/window_size" << "20" << "window_size': must cover";
        QTest::newRow("sliding") << q25 << "/use_sliding_window" << "true" << "sliding-window attention is not supported";
        QTest::newRow("head_dim") << q3 << "/text_config/head_dim" << "64" << "must sum to head_dim/2 = 32";
        QTest::newRow("family") << q3 << "/model_type" << "\"qwen3_vl_moe\"" << "'qwen3_vl_moe' is not supported (supported:";
    }

    void configErrors()
    {
        QFETCH(int, family);
        QFETCH(QString, path);
        QFETCH(QString, value);
        QFETCH(QString, expected);
        auto j = (family == int(Family::Qwen3VL) ? qwen3vl2bConfig(2, 12) : qwen2_5vl3bConfig(2, 8)).toJson();
        const json::json_pointer pointer(path.toStdString());
        const auto v = json::parse(value.toStdString());
        if (v.is_null())
            j[pointer.parent_pointer()].erase(pointer.back());
        else
            j[pointer] = v;
        auto parsed = Qwen2VLConfig::fromJson(j, "config.json");
        QVERIFY(!parsed);
        QVERIFY2(QString::fromStdString(parsed.error().message).contains(expected), parsed.error().message.c_str());
    }

    void windowOrderAsTransformers()
    {
        auto c = tinyConfig(Family::Qwen2_5VL).vision; // windows of 112 / 14 / 2 = 4 merged patches a side
        // Sides that divide the window, that do not, smaller than one window; two images.
        const auto grid = torch::tensor({1, 16, 16, 1, 10, 22, 1, 4, 6}, torch::kLong).view({3, 3});
        const auto layout = windowLayout(grid, c);
        std::vector<std::int64_t> expected;
        std::int64_t base = 0;
        for (const auto &[h, w] : std::vector<std::pair<std::int64_t, std::int64_t>>{{8, 8}, {5, 11}, {2, 3}}) {
            for (const auto i : paddedWindowOrder(h, w, 4))
                expected.push_back(base + i);
            base += h * w;
        }
        const auto order = layout.order;
        QCOMPARE(std::vector<std::int64_t>(order.data_ptr<std::int64_t>(), order.data_ptr<std::int64_t>() + order.numel()),
                 expected);
        // 4 + 6 + 1 windows; patches per window sum to all patches.
        QCOMPARE(layout.segments.size(), std::size_t(11));
        QCOMPARE(std::accumulate(layout.segments.begin(), layout.segments.end(), std::int64_t(0)), std::int64_t(256 + 220 + 24));
        QCOMPARE(layout.segments.front(), std::int64_t(64)); // a whole window: 4 x 4 merged patches of 4
    }

    void positionSamples()
    {
        auto c = tinyConfig(Family::Qwen3VL).vision; // an 8 x 8 grid
        // At the grid's own size every patch samples its own row with weight 1.
        const auto same = model::positionSamples(torch::tensor({1, 8, 8}, torch::kLong).view({1, 3}), c);
        QVERIFY(torch::allclose(same.weight[0], torch::ones({64})));
        // Processor order: merge windows of 2x2; patch 2 of the first window is (row 1, col 0).
        QCOMPARE(same.index[0][2].item<std::int64_t>(), std::int64_t(8));
        QCOMPARE(same.index[0][4].item<std::int64_t>(), std::int64_t(2));
        // Elsewhere the four weights make a partition of unity, and frames repeat.
        const auto s = model::positionSamples(torch::tensor({2, 6, 10}, torch::kLong).view({1, 3}), c);
        QCOMPARE(s.index.size(1), std::int64_t(120));
        QVERIFY(torch::allclose(s.weight.sum(0), torch::ones({120})));
        QVERIFY(torch::equal(s.index.narrow(1, 0, 60), s.index.narrow(1, 60, 60)));
        QCOMPARE(s.index.max().item<std::int64_t>(), std::int64_t(63)); // the last corner
    }

    void interleavedRopeRows()
    {
        auto cfg = tinyConfig(Family::Qwen3VL);
        cfg.text.headDim = 128;
        cfg.text.numHeads = 1;
        cfg.text.numKvHeads = 1;
        cfg.text.mropeSection = {24, 20, 20};
        cfg.text.ropeTheta = 1e4;
        TextDecoder decoder(cfg.text);
        // Rows t, h, w at distinct positions; frequency j must take row j % 3 while j < 3 x section.
        const auto pos = torch::tensor({11, 23, 37}, torch::kLong).view({3, 1, 1});
        const auto tables = decoder->rotary(pos, torch::kFloat32, torch::kCPU);
        for (std::int64_t j = 0; j < 64; ++j) {
            const std::int64_t row = j % 3 == 1 && j < 60 ? 1 : j % 3 == 2 && j < 60 ? 2 : 0;
            const double position = row == 0 ? 11 : row == 1 ? 23 : 37;
            const double angle = position * std::pow(1e4, -2.0 * static_cast<double>(j) / 128.0);
            QVERIFY2(std::abs(tables.cos[0][0][j].item<double>() - std::cos(angle)) < 1e-5, qPrintable(QString::number(j)));
            QVERIFY(std::abs(tables.cos[0][0][j + 64].item<double>() - std::cos(angle)) < 1e-5);
        }
    }

    void deepstackTouchesImageRowsOnly()
    {
        auto cfg = tinyConfig(Family::Qwen3VL);
        torch::manual_seed(1);
        Qwen2VL model(cfg);
        model->eval();
        torch::NoGradGuard noGrad;
        const auto ids = promptWithImage(cfg, 4, 8);
        const auto base = run(model, ids, 4, 8);
        // Scale the DeepStack mergers' output: text rows before the image cannot change (causal), image
        // rows and everything after must.
        for (auto &p : model->named_parameters())
            if (p.key().find("deepstack_merger_list") != std::string::npos && p.key().find("linear_fc2") != std::string::npos)
                p.value().mul_(3);
        const auto scaled = run(model, ids, 4, 8);
        const auto firstImage = 4;
        QVERIFY(torch::equal(base.hidden.narrow(1, 0, firstImage), scaled.hidden.narrow(1, 0, firstImage)));
        QVERIFY((base.hidden.narrow(1, firstImage, 8) - scaled.hidden.narrow(1, firstImage, 8)).abs().max().item<double>() > 1e-4);
        QVERIFY((base.logits.select(1, ids.size(1) - 1) - scaled.logits.select(1, ids.size(1) - 1)).abs().max().item<double>() > 1e-5);
        // With the mergers' outputs at zero, the model is the one without DeepStack.
        for (auto &p : model->named_parameters())
            if (p.key().find("deepstack_merger_list") != std::string::npos && p.key().find("linear_fc2") != std::string::npos)
                p.value().zero_();
        auto without = cfg;
        without.vision.deepstackIndexes.clear();
        Qwen2VL plain(without);
        plain->eval();
        auto target = plain->named_parameters();
        for (const auto &p : model->named_parameters())
            if (auto *t = target.find(p.key()))
                t->copy_(p.value());
        const auto zeroed = run(model, ids, 4, 8), reference = run(plain, ids, 4, 8);
        QVERIFY(torch::equal(zeroed.logits, reference.logits));
    }

    void saveAndLoadUnderHubNames_data()
    {
        QTest::addColumn<int>("family");
        QTest::addColumn<QString>("probe");
        QTest::newRow("qwen2.5-vl") << int(Family::Qwen2_5VL) << "visual.blocks.0.mlp.gate_proj.weight";
        QTest::newRow("qwen3-vl") << int(Family::Qwen3VL) << "model.language_model.layers.0.self_attn.q_norm.weight";
    }

    void saveAndLoadUnderHubNames()
    {
        QFETCH(int, family);
        QFETCH(QString, probe);
        const auto cfg = tinyConfig(static_cast<Family>(family));
        torch::manual_seed(2);
        Qwen2VL model(cfg);
        model->eval();
        const auto folder = dir() / ("saved-" + std::to_string(family));
        saveQwen2VL(model, folder);
        auto stored = tensor::Checkpoint::open(folder);
        QVERIFY(stored.has_value());
        QVERIFY(stored->find(probe.toStdString()) != nullptr);
        // The names random-checkpoint writes are the names the model saves.
        const auto names = stored->names();
        std::set<std::string> listed, saved(names.begin(), names.end());
        for (const auto &t : checkpointTensors(cfg))
            listed.insert(t.name);
        QVERIFY(listed == saved);
        auto loaded = loadQwen2VL(folder);
        QVERIFY2(loaded.has_value(), loaded ? "" : loaded.error().message.c_str());
        QVERIFY((*loaded)->config().family() == cfg.family());
        torch::NoGradGuard noGrad;
        const auto ids = promptWithImage(cfg, 4, 8);
        QVERIFY(torch::equal(run(model, ids, 4, 8).logits, run(*loaded, ids, 4, 8).logits));
    }

    void intermediateTensorsEqualTransformers_data()
    {
        QTest::addColumn<QString>("family");
        QTest::addColumn<bool>("bf16");
        for (const char *f : {"qwen2_5_vl", "qwen3_vl"}) {
            QTest::newRow((std::string(f) + " fp32").c_str()) << QString(f) << false;
            QTest::newRow((std::string(f) + " bf16").c_str()) << QString(f) << true;
        }
    }

    void intermediateTensorsEqualTransformers()
    {
        // tests/data/golden/families/F: a tiny checkpoint (random-checkpoint --preset tiny --family F)
        // and transformers main's tensors for two images (tools/golden/trace_synthetic_main.py): every
        // vision block (Qwen2.5-VL's in window order), the DeepStack outputs, positions, each decoder
        // layer and the logits, within the reference's own float64 spread (parity.h).
        QFETCH(QString, family);
        QFETCH(bool, bf16);
        const auto golden = test::sourceDir() / "tests/data/golden/families" / family.toStdString();
        auto report = runParity(golden / "model", golden, torch::kCPU, bf16 ? torch::kBFloat16 : torch::kFloat32);
        QVERIFY2(report.has_value(), report ? "" : report.error().message.c_str());
        QVERIFY2(report->ok(), report->toText().c_str());
        QCOMPARE(report->cases.size(), std::size_t(2));
        std::size_t tensors = 0;
        for (const auto &c : report->cases)
            tensors += c.tensors.size();
        QVERIFY(tensors >= (family == "qwen3_vl" ? 26u : 22u)); // the deepstack outputs are compared too
    }

    void pixelsEqualTransformers_data()
    {
        QTest::addColumn<QString>("family");
        QTest::newRow("qwen2.5-vl (patch 14, CLIP statistics)") << "qwen2_5_vl";
        QTest::newRow("qwen3-vl (patch 16, mean/std 0.5, 65,536 pixels at least)") << "qwen3_vl";
    }

    void pixelsEqualTransformers()
    {
        // Our preprocessing with each family's preprocessor_config.json against the pixel values
        // transformers main's PIL processor gave the golden cases (an RGB and an RGBA image).
        QFETCH(QString, family);
        const auto golden = test::sourceDir() / "tests/data/golden/families" / family.toStdString();
        auto config = vision::ImageProcessorConfig::load(golden / "model/preprocessor_config.json");
        QVERIFY(config.has_value());
        for (const std::string image : {"clip-a", "drawing-rgba"}) {
            const auto pre = vision::preprocessImageFile(test::sourceDir() / "tests/data/reference/hybrid/images" / (image + ".png"), *config);
            auto file = tensor::SafetensorsFile::open(golden / "cases_r" / (image + ".pixels.safetensors"));
            QVERIFY(file.has_value());
            const auto want = readTensor(**file, "pixel_values");
            const auto got = torch::from_blob(const_cast<float *>(pre.pixelValues.data()), {pre.patches, pre.features}, torch::kFloat32);
            QCOMPARE(got.sizes(), want.sizes());
            // One float32 rounding of (x / 255 - mean) / std at most.
            QVERIFY2((got - want).abs().max().item<double>() <= 1e-6, image.c_str());
        }
    }

    void trainingEqualsTransformers_data()
    {
        QTest::addColumn<QString>("family");
        QTest::newRow("qwen2.5-vl") << "qwen2_5_vl";
        QTest::newRow("qwen3-vl") << "qwen3_vl";
    }

    void trainingEqualsTransformers()
    {
        // tests/data/golden/families/F/train (tools/golden/train_reference_main.py): loss, the logits
        // that predict the answer, every gradient, one SGD step and three AdamW steps against
        // transformers main. Tolerances: kIndependentFactor x the reference's float64-vs-float32 spread
        // (losses: at least the forward's relative spread times the loss).
        QFETCH(QString, family);
        const auto golden = test::sourceDir() / "tests/data/golden/families" / family.toStdString();
        const auto meta = json::parse(test::readText(golden / "train/train.json"));
        auto tensors = *readSafetensors(golden / "train/train.safetensors");
        auto pixels = tensor::SafetensorsFile::open(golden / "train/train.pixels.safetensors");
        QVERIFY(pixels.has_value());
        ForwardInput input;
        input.inputIds = tensors.at("input_ids");
        input.attentionMask = tensors.at("attention_mask");
        input.imageGridThw = tensors.at("image_grid_thw");
        input.pixelValues = readTensor(**pixels, "pixel_values");
        const auto labels = tensors.at("labels");
        const double relSpread = *referenceRelativeSpread(golden);
        const double loss64 = std::abs(meta.at("loss_float64_model").get<double>() - meta.at("loss").get<double>());
        const auto lossTol = [&](double value) { return kIndependentFactor * std::max(loss64, relSpread * std::abs(value)); };
        const auto load = [&] {
            auto m = *loadQwen2VL(golden / "model");
            m->train();
            return m;
        };

        auto model = load();
        const auto out = languageModelLoss(model, input, labels);
        const double ref = meta.at("loss").get<double>();
        QVERIFY2(std::abs(out.loss.item<double>() - ref) <= lossTol(ref), qPrintable(QString("loss %1 vs %2").arg(out.loss.item<double>()).arg(ref)));
        const auto refLogits = tensors.at("last_logits");
        QVERIFY((out.logits[0].detach() - refLogits).abs().max().item<double>() <=
                kIndependentFactor * relSpread * refLogits.abs().max().item<double>());
        out.loss.backward();
        const double gradTol = kIndependentFactor * meta.at("grad_max_relative_error_vs_float64").get<double>();
        const auto params = model->named_parameters();
        QCOMPARE(meta.at("grad_norms").size(), params.size()); // every parameter has its gradient, none more
        double worst = 0;
        for (const auto &[name, norm] : meta.at("grad_norms").items()) {
            const auto *p = params.find(name);
            QVERIFY2(p && p->grad().defined(), name.c_str());
            const double rel = std::abs(p->grad().norm().item<double>() - norm.get<double>()) / std::max(norm.get<double>(), 1e-12);
            worst = std::max(worst, rel);
            QVERIFY2(rel <= gradTol, qPrintable(QString("%1: relative %2 (tolerance %3)").arg(name.c_str()).arg(rel).arg(gradTol)));
        }
        int full = 0;
        for (const auto &[key, g] : tensors)
            if (key.starts_with("grad.")) {
                const auto diff = (params[key.substr(5)].grad() - g).norm().item<double>() / g.norm().item<double>();
                QVERIFY2(diff <= gradTol, key.c_str());
                ++full;
            }
        QVERIFY(full >= 4);
        qInfo("%s: loss |d| %.3g, gradient norms worst relative %.3g (tolerance %.3g)", qPrintable(family),
              std::abs(out.loss.item<double>() - ref), worst, gradTol);

        {
            torch::NoGradGuard noGrad;
            for (auto &p : model->parameters())
                p -= 0.1 * p.grad();
            model->eval();
            const double sgd = meta.at("sgd").at("loss_after_one_step").get<double>();
            const double got = languageModelLoss(model, input, labels).loss.item<double>();
            QVERIFY2(std::abs(got - sgd) <= lossTol(sgd), qPrintable(QString("after SGD %1 vs %2").arg(got).arg(sgd)));
        }
        auto fresh = load();
        const auto &adam = meta.at("adamw");
        torch::optim::AdamW opt(fresh->parameters(), torch::optim::AdamWOptions(adam.at("lr").get<double>())
                                                         .betas({0.9, 0.999})
                                                         .eps(adam.at("eps").get<double>())
                                                         .weight_decay(adam.at("weight_decay").get<double>()));
        const auto refs = adam.at("loss_before_step_1_2_3_and_after_step_3");
        for (std::size_t step = 0; step < 4; ++step) {
            opt.zero_grad();
            const auto loss = languageModelLoss(fresh, input, labels).loss;
            const double want = refs[step].get<double>();
            QVERIFY2(std::abs(loss.item<double>() - want) <= lossTol(want),
                     qPrintable(QString("AdamW loss %1: %2 vs %3").arg(step).arg(loss.item<double>()).arg(want)));
            if (step == 3)
                break;
            loss.backward();
            opt.step();
        }
    }

    void peftNamesFollowTheFamily()
    {
        const auto cfg = tinyConfig(Family::Qwen3VL);
        torch::manual_seed(4);
        Qwen2VL model(cfg);
        LoraConfig lora;
        lora.vision = true;
        lora.targetModules = {"q_proj", "v_proj", "linear_fc1"};
        QCOMPARE(addLoraAdapters(model, lora), std::size_t(2 * 2 + 2 + 1 + 2)); // 2 layers x 2, blocks, merger, DeepStack
        for (auto &[name, t] : loraParameters(model)) {
            QVERIFY2(name.starts_with("base_model.model.model.language_model.layers.") ||
                         name.starts_with("base_model.model.model.visual."),
                     name.c_str());
            torch::NoGradGuard noGrad;
            t.normal_(0, 0.05);
        }
        const auto folder = dir() / "adapter";
        saveLoraAdapter(model, lora, folder, "qwen3-tiny");
        Qwen2VL again(cfg);
        auto loaded = loadLoraAdapter(again, folder);
        QVERIFY2(loaded.has_value(), loaded ? "" : loaded.error().message.c_str());
        const auto a = loraParameters(model), b = loraParameters(again);
        QCOMPARE(a.size(), b.size());
        for (std::size_t i = 0; i < a.size(); ++i) {
            QCOMPARE(a[i].first, b[i].first);
            QVERIFY(torch::equal(a[i].second, b[i].second));
        }
    }
};

QTEST_GUILESS_MAIN(TestFamilies)
#include "test_families.moc"
