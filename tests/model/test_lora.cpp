// SPDX-License-Identifier: GPL-3.0-or-later
// Trainable LoRA adapters: a fresh adapter leaves the output unchanged (B = 0), a trained one changes
// it; the PEFT folder written holds PEFT's tensor names and config fields; reading it back as trainable
// adapters reproduces the outputs exactly, merging it (as scoring does) reproduces them to rounding;
// vision layers are adapted only when asked; gradients reach the adapters while the base is frozen;
// activation checkpointing reproduces a training step's loss and gradients.
#include "core/model/autocast.h"
#include "core/model/loader.h"
#include "core/model/lora.h"
#include "core/model/torch_io.h"
#include "test_support.h"

#include <QTemporaryDir>
#include <QTest>

#include <nlohmann/json.hpp>

using namespace unirank;
using namespace unirank::model;
namespace fs = std::filesystem;

namespace {

Qwen2VL load()
{
    auto m = loadQwen2VL(test::goldenDir() / "model_a");
    if (!m)
        qFatal("%s", m.error().message.c_str());
    return *m;
}

torch::Tensor logits(Qwen2VL &model)
{
    torch::NoGradGuard noGrad;
    ForwardInput in;
    in.inputIds = torch::tensor({{1, 5, 9, 33, 71, 12, 4}}, torch::kLong);
    in.logitPositions = allPositions(1, 7);
    return forward(model, in).logits;
}

void randomiseB(Qwen2VL &model)
{
    torch::NoGradGuard noGrad;
    torch::manual_seed(7);
    for (auto &[name, t] : loraParameters(model))
        if (name.ends_with("lora_B.weight"))
            t.normal_(0, 0.05);
}

/// Loss and gradients of one training step on a two-row batch (one padded), with dropout active.
struct StepResult {
    double loss = 0;
    std::map<std::string, torch::Tensor> grads;
};

StepResult trainingStep(bool checkpointing, bool fullFinetune, bool bf16 = false)
{
    auto model = load();
    for (auto &p : model->parameters())
        p.set_requires_grad(fullFinetune);
    if (!fullFinetune) {
        LoraConfig config;
        config.settings = {4, 8, 0.3, false}; // heavy dropout: the recomputation must repeat its masks
        torch::manual_seed(5);                // lora_A's initialisation
        addLoraAdapters(model, config);
        randomiseB(model);
        for (auto &[name, t] : loraParameters(model))
            t.set_requires_grad(true);
    }
    model->decoder()->setGradientCheckpointing(checkpointing);
    model->train();
    ForwardInput in;
    in.inputIds = torch::tensor({{1, 5, 9, 33, 71, 12, 4}, {1, 8, 2, 40, 3, 0, 0}}, torch::kLong);
    in.attentionMask = torch::tensor({{1, 1, 1, 1, 1, 1, 1}, {1, 1, 1, 1, 1, 0, 0}}, torch::kLong);
    in.logitPositions = torch::tensor({{6}, {4}}, torch::kLong);
    torch::manual_seed(11);
    StepResult r;
    torch::Tensor loss;
    {
        AutocastBf16 autocast(bf16, torch::kCPU);
        const auto logits = forward(model, in).logits.select(1, 0).to(torch::kFloat32);
        loss = torch::nn::functional::cross_entropy(logits, torch::tensor({3, 4}, torch::kLong));
    }
    loss.backward(); // outside the autocast scope, as PyTorch recommends: the recomputation restores it
    r.loss = loss.item<double>();
    for (const auto &p : model->named_parameters())
        if (p.value().grad().defined())
            r.grads[p.key()] = p.value().grad().clone();
    return r;
}

} // namespace

class TestLora : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;

private slots:
    void freshAdapterIsNeutral()
    {
        auto model = load();
        const auto before = logits(model);
        LoraConfig config;
        config.settings = {4, 8, 0.0, false};
        const auto layers = addLoraAdapters(model, config);
        const auto &c = model->config();
        QCOMPARE(layers, std::size_t(7 * c.text.numLayers)); // every text projection, no vision layer
        QVERIFY(torch::equal(logits(model), before));
        for (const auto &[name, t] : loraParameters(model))
            QVERIFY2(!name.starts_with("base_model.model.visual."), name.c_str());
        randomiseB(model);
        QVERIFY((logits(model) - before).abs().max().item<double>() > 1e-3);
        removeLoraAdapters(model);
        QVERIFY(torch::equal(logits(model), before));
        QVERIFY(loraParameters(model).empty());
    }

    void peftRoundTrip()
    {
        auto model = load();
        LoraConfig config;
        config.settings = {4, 8, 0.1, false};
        config.targetModules = {"q_proj", "v_proj", "down_proj", "qkv"};
        config.vision = true;
        addLoraAdapters(model, config);
        randomiseB(model);
        model->eval(); // dropout off
        const auto adapted = logits(model);
        const auto folder = fs::path(m_dir.path().toStdString()) / "adapter";
        saveLoraAdapter(model, config, folder, "tests/data/golden/qwen2vl/model_a");

        // PEFT's layout.
        const auto cfg = nlohmann::json::parse(test::readText(folder / "adapter_config.json"));
        QCOMPARE(cfg.at("peft_type").get<std::string>(), std::string("LORA"));
        QCOMPARE(cfg.at("r").get<int>(), 4);
        QCOMPARE(cfg.at("lora_alpha").get<double>(), 8.0);
        QCOMPARE(cfg.at("target_modules").size(), std::size_t(4));
        const auto stored = readSafetensors(folder / "adapter_model.safetensors").value();
        QVERIFY(stored.contains("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"));
        QVERIFY(stored.contains("base_model.model.model.layers.1.mlp.down_proj.lora_B.weight"));
        QVERIFY(stored.contains("base_model.model.visual.blocks.0.attn.qkv.lora_A.weight"));
        QCOMPARE(stored.at("base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight").size(0), std::int64_t(4));

        // Read back as trainable adapters: identical.
        auto again = load();
        const auto read = loadLoraAdapter(again, folder);
        QVERIFY2(read.has_value(), read ? "" : read.error().message.c_str());
        QCOMPARE(read->settings.rank, std::int64_t(4));
        QVERIFY(read->vision);
        again->eval();
        QVERIFY(torch::equal(logits(again), adapted));

        // Merged into the weights (the scorer's path): the same up to float rounding.
        auto merged = load();
        QVERIFY(mergeLoraAdapter(merged, folder).has_value());
        const auto scale = adapted.abs().max().item<double>();
        QVERIFY((logits(merged) - adapted).abs().max().item<double>() < 1e-5 * scale + 1e-6);
        mergeLoraAdapters(again);
        QVERIFY(loraParameters(again).empty());
        QVERIFY((logits(again) - adapted).abs().max().item<double>() < 1e-5 * scale + 1e-6);
    }

    void gradientsReachTheAdapters()
    {
        auto model = load();
        for (auto &p : model->parameters())
            p.set_requires_grad(false);
        addLoraAdapters(model, {});
        randomiseB(model);
        ForwardInput in;
        in.inputIds = torch::tensor({{1, 5, 9, 33}}, torch::kLong);
        in.logitPositions = torch::tensor({{3}}, torch::kLong);
        const auto out = forward(model, in).logits;
        out.sum().backward();
        std::size_t withGrad = 0;
        for (const auto &[name, t] : loraParameters(model))
            withGrad += t.grad().defined() && t.grad().abs().sum().item<double>() > 0;
        QCOMPARE(withGrad, loraParameters(model).size());
        for (const auto &p : model->named_parameters())
            if (p.key().find("lora_") == std::string::npos)
                QVERIFY(!p.value().grad().defined());
    }

    void activationCheckpointingRepeatsTheStep_data()
    {
        QTest::addColumn<bool>("full");
        QTest::addColumn<bool>("bf16");
        QTest::newRow("lora-dropout") << false << false;
        QTest::newRow("full-finetune") << true << false;
        QTest::newRow("lora-bf16-autocast") << false << true;
    }

    // Recomputing each decoder layer in backward gives the same loss and the same gradient for every
    // trainable tensor as keeping the activations: the same operations on the same inputs, with the
    // dropout masks and autocast state of the forward (a wrong mask or fp32 recompute would differ by
    // far more than float rounding).
    void activationCheckpointingRepeatsTheStep()
    {
        QFETCH(bool, full);
        QFETCH(bool, bf16);
        const auto plain = trainingStep(false, full, bf16);
        const auto recomputed = trainingStep(true, full, bf16);
        QCOMPARE(recomputed.loss, plain.loss);
        QCOMPARE(recomputed.grads.size(), plain.grads.size());
        QVERIFY(plain.grads.size() > 10);
        for (const auto &[name, g] : plain.grads) {
            const auto it = recomputed.grads.find(name);
            QVERIFY2(it != recomputed.grads.end(), name.c_str());
            const auto scale = g.abs().max().item<double>();
            const auto diff = (it->second - g).abs().max().item<double>();
            QVERIFY2(diff <= 1e-6 * scale + 1e-9, (name + ": " + std::to_string(diff) + " of " + std::to_string(scale)).c_str());
        }
    }

    // A validation pass inside a bf16 training loop opens its own autocast scope; leaving it must keep
    // the loop's autocast on (and leaving the loop's must turn it off).
    void autocastScopesNest()
    {
        QVERIFY(!autocastState(c10::DeviceType::CPU).enabled);
        {
            AutocastBf16 outer(true, torch::kCPU);
            {
                AutocastBf16 inner(true, torch::kCPU);
                AutocastBf16 off(false, torch::kCPU);
                QVERIFY(autocastState(c10::DeviceType::CPU).enabled);
            }
            QVERIFY(autocastState(c10::DeviceType::CPU).enabled);
            QCOMPARE(autocastState(c10::DeviceType::CPU).dtype, at::kBFloat16);
        }
        QVERIFY(!autocastState(c10::DeviceType::CPU).enabled);
    }

    void badAdapters()
    {
        auto model = load();
        LoraConfig none;
        none.targetModules = {"nothing_here"};
        QVERIFY_THROWS_EXCEPTION(InputError, addLoraAdapters(model, none));
        const auto folder = fs::path(m_dir.path().toStdString()) / "broken";
        fs::create_directories(folder);
        test::writeText(folder / "adapter_config.json", R"({"peft_type": "LORA", "r": 2})");
        writeTensors(folder / "adapter_model.safetensors",
                     {{"base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight", torch::zeros({2, 8})}});
        auto r = loadLoraAdapter(model, folder);
        QVERIFY(!r);
        QVERIFY2(r.error().message.find("only one of lora_A and lora_B") != std::string::npos, r.error().message.c_str());
    }
};

QTEST_GUILESS_MAIN(TestLora)
#include "test_lora.moc"
