// SPDX-License-Identifier: GPL-3.0-or-later
// Model pieces on their own: config layouts, loader errors and naming schemes, get_rope_index rules,
// KV-cache continuation equal to one full forward, logits only where asked, MLPs in row blocks equal
// to one pass.
#include "core/model/loader.h"
#include "core/model/lora.h"
#include "core/model/presets.h"
#include "core/model/random_checkpoint.h"
#include "core/model/rope_index.h"
#include "core/model/torch_io.h"
#include "test_support.h"

#include <QTemporaryDir>
#include <QTest>

#include <nlohmann/json.hpp>

using namespace unirank;
using namespace unirank::model;
namespace fs = std::filesystem;
using nlohmann::json;

namespace {

json goldenConfig()
{
    return json::parse(test::readText(test::goldenDir() / "model_a" / "config.json"));
}

torch::Tensor goldenTensor(const std::string &file, const std::string &name)
{
    auto f = tensor::SafetensorsFile::open(test::goldenDir() / file);
    return readTensor(**f, name);
}

} // namespace

class TestModelUnits : public QObject {
    Q_OBJECT
    QTemporaryDir m_tmp;
    fs::path dir() const { return m_tmp.path().toStdString(); }
    fs::path dir_() const { return dir(); }

    /// A copy of model_a whose tensors went through `edit` first.
    fs::path editedCheckpoint(const std::string &name,
                              const std::function<void(std::map<std::string, torch::Tensor> &)> &edit)
    {
        const auto out = dir() / name;
        fs::create_directories(out);
        fs::copy_file(test::goldenDir() / "model_a" / "config.json", out / "config.json", fs::copy_options::overwrite_existing);
        auto tensors = readSafetensors(test::goldenDir() / "model_a" / "model.safetensors");
        edit(*tensors);
        writeTensors(out / "model.safetensors", {tensors->begin(), tensors->end()});
        return out;
    }

private slots:
    void configLayouts()
    {
        auto flat = Qwen2VLConfig::fromJson(goldenConfig(), "config.json");
        QVERIFY(flat.has_value());
        QCOMPARE(flat->text.headDim, std::int64_t(16));
        QCOMPARE(flat->vision.mlpHidden(), std::int64_t(64));
        QCOMPARE(flat->vision.depth, std::int64_t(2));
        QCOMPARE(flat->vision.patchSize, std::int64_t(14)); // class default, absent from the file
        QVERIFY(flat->text.tieWordEmbeddings);
        QCOMPARE(flat->tokens.imageToken, std::int64_t(508));

        // Nested text_config (transformers >= 4.5x) with rope_parameters (v5).
        auto nested = goldenConfig();
        json text;
        for (const auto *k : {"hidden_size", "num_hidden_layers", "num_attention_heads", "num_key_value_heads",
                              "intermediate_size", "vocab_size", "rms_norm_eps", "hidden_act"}) {
            text[k] = nested[k];
            nested.erase(k);
        }
        nested.erase("rope_scaling");
        nested.erase("rope_theta");
        text["rope_parameters"] = {{"rope_type", "default"}, {"rope_theta", 5e5}, {"mrope_section", {2, 3, 3}}};
        text["model_type"] = "qwen2_vl_text";
        nested["text_config"] = text;
        auto parsed = Qwen2VLConfig::fromJson(nested, "nested.json");
        QVERIFY2(parsed.has_value(), parsed ? "" : parsed.error().message.c_str());
        QCOMPARE(parsed->text.hiddenSize, std::int64_t(64));
        QCOMPARE(parsed->text.ropeTheta, 5e5);
        QVERIFY(parsed->text.mropeSection == (std::array<std::int64_t, 3>{2, 3, 3}));

        // The hub spelling {"type": "mrope"} is the same thing.
        auto hub = goldenConfig();
        hub["rope_scaling"] = {{"type", "mrope"}, {"mrope_section", {2, 3, 3}}};
        QVERIFY(Qwen2VLConfig::fromJson(hub, "hub.json").has_value());
    }

    void configErrors_data()
    {
        QTest::addColumn<QString>("key");
        QTest::addColumn<QString>("value");
        QTest::addColumn<QString>("expected");
        QTest::newRow("model_type") << "model_type" << "\"llava\"" << "config.json: field 'model_type': 'llava' is not supported";
        QTest::newRow("missing hidden") << "hidden_size" << "null" << "field 'hidden_size': missing";
        QTest::newRow("string layers") << "num_hidden_layers" << "\"two\"" << "field 'num_hidden_layers': must be an integer";
        QTest::newRow("kv heads") << "num_key_value_heads" << "3" << "num_key_value_heads";
        QTest::newRow("sections") << "rope_scaling" << R"({"type":"mrope","mrope_section":[2,2,2]})" << "must sum to head_dim/2 = 8";
        QTest::newRow("no sections") << "rope_scaling" << "null" << "mrope_section': missing";
        QTest::newRow("vision width") << "vision_config" << R"({"depth":2,"embed_dim":32,"num_heads":4,"hidden_size":48})" << "must equal the text hidden_size";
        QTest::newRow("vision missing") << "vision_config" << "null" << "field 'vision_config': missing";
    }

    void configErrors()
    {
        QFETCH(QString, key);
        QFETCH(QString, value);
        QFETCH(QString, expected);
        auto j = goldenConfig();
        const auto v = json::parse(value.toStdString());
        if (v.is_null())
            j.erase(key.toStdString());
        else
            j[key.toStdString()] = v;
        auto parsed = Qwen2VLConfig::fromJson(j, "config.json");
        QVERIFY(!parsed);
        QVERIFY2(QString::fromStdString(parsed.error().message).contains(expected), parsed.error().message.c_str());
    }

    void loaderAcceptsBothNamingSchemes()
    {
        auto old = loadQwen2VL(test::goldenDir() / "model_a");
        QVERIFY(old.has_value());
        std::vector<std::string> notes;
        const auto renamed = editedCheckpoint("new-names", [](auto &t) {
            std::map<std::string, torch::Tensor> out;
            for (auto &[name, value] : t) {
                const auto n = name.starts_with("visual.") ? "model." + name
                                                           : "model.language_model." + name.substr(std::string("model.").size());
                out[n] = value;
            }
            out["lm_head.weight"] = out.at("model.language_model.embed_tokens.weight").clone(); // tied: unused
            t = out;
        });
        auto loaded = loadQwen2VL(renamed, {torch::kCPU, torch::kFloat32, [&](const std::string &s) { notes.push_back(s); }});
        QVERIFY2(loaded.has_value(), loaded ? "" : loaded.error().message.c_str());
        QCOMPARE(notes.size(), std::size_t(1));
        QVERIFY(notes[0].find("lm_head.weight") != std::string::npos);
        auto a = (*old)->named_parameters(), b = (*loaded)->named_parameters();
        for (const auto &item : a)
            QVERIFY(torch::equal(item.value(), b[item.key()]));
    }

    void randomCheckpointIsLaidOutLikeTheModel()
    {
        // checkpointTensors lists exactly the model's parameters (tied and untied heads).
        for (auto config : {tinyConfig(), qwen2vl7bConfig(1, 1)}) {
            if (config.text.hiddenSize > 1000) { // the 7B shapes without allocating them: shrink widths
                config.text.vocabSize = 64;
                config.text.hiddenSize = 64;
                config.text.numHeads = 4;
                config.text.numKvHeads = 2;
                config.text.headDim = 16;
                config.text.intermediateSize = 96;
                config.text.mropeSection = {2, 3, 3};
                config.vision.embedDim = 32;
                config.vision.numHeads = 4;
                config.vision.hiddenSize = 64;
            }
            Qwen2VL model(config);
            std::map<std::string, std::vector<std::int64_t>> expected, listed;
            for (const auto &item : model->named_parameters())
                expected[item.key()] = item.value().sizes().vec();
            for (const auto &t : checkpointTensors(config))
                listed[t.name] = t.shape;
            QVERIFY(expected == listed);
            QCOMPARE(listed.count("lm_head.weight"), std::size_t(config.text.tieWordEmbeddings ? 0 : 1));
        }
        // Values: a pure function of (seed, name, index), with Hugging Face's init spread.
        double sum = 0, squares = 0, normSum = 0;
        constexpr int n = 200000;
        for (int i = 0; i < n; ++i) {
            const double v = randomWeight(19, "model.layers.0.mlp.up_proj.weight", static_cast<std::uint64_t>(i));
            QCOMPARE(v, static_cast<double>(randomWeight(19, "model.layers.0.mlp.up_proj.weight", static_cast<std::uint64_t>(i))));
            sum += v;
            squares += v * v;
            normSum += randomWeight(19, "model.norm.weight", static_cast<std::uint64_t>(i));
        }
        QVERIFY(std::abs(sum / n) < 2e-4);
        QVERIFY(std::abs(std::sqrt(squares / n) - 0.02) < 5e-4);
        QVERIFY(std::abs(normSum / n - 1.0) < 1e-3);
        QVERIFY(randomWeight(19, "a", 0) != randomWeight(20, "a", 0) || randomWeight(19, "a", 1) != randomWeight(20, "a", 1));
        // A written checkpoint loads and holds those values (bf16-rounded).
        const auto folder = dir() / "random";
        writeRandomCheckpoint(tinyConfig(), folder, {19, true, 100000});
        QVERIFY(fs::exists(folder / "model.safetensors.index.json"));
        int shards = 0;
        for (const auto &e : fs::directory_iterator(folder))
            shards += e.path().extension() == ".safetensors";
        QVERIFY(shards >= 2); // split at 100 kB, as the Hub splits at 4 GB
        auto loaded = loadQwen2VL(folder);
        QVERIFY2(loaded.has_value(), loaded ? "" : loaded.error().message.c_str());
        const auto w = (*loaded)->named_parameters()["model.layers.1.self_attn.q_proj.weight"];
        QCOMPARE(w[3][5].item<float>(), static_cast<float>(torch::tensor(randomWeight(19, "model.layers.1.self_attn.q_proj.weight", 3 * 64 + 5))
                                                              .to(torch::kBFloat16).item<float>()));
    }

    void loaderRefusesARankingHead()
    {
        // jina-reranker-m0 (JinaVLForRanking) ranks with score.* on the last hidden state, not with label
        // logits: refused by name rather than scored with meaningless logits.
        for (const char *head : {"score.0.weight", "score.dense.weight"}) {
            const auto withHead = editedCheckpoint(std::string("head-") + head, [&](auto &t) { t[head] = torch::zeros({64, 64}); });
            const auto loaded = loadQwen2VL(withHead);
            QVERIFY(!loaded);
            QVERIFY2(loaded.error().message.find(head) != std::string::npos &&
                         loaded.error().message.find("jina-reranker-m0") != std::string::npos,
                     loaded.error().message.c_str());
        }
    }

    void loadAdoptsTheFileDtypeWithoutACopy()
    {
        // bf16 files loaded in bf16 on the CPU use the mapped file in place; in float32 they are
        // converted once. Either way the values are the file's.
        const auto bf16 = editedCheckpoint("bf16", [](auto &t) {
            for (auto &[name, value] : t)
                value = value.to(torch::kBFloat16);
        });
        auto inPlace = loadQwen2VL(bf16, {torch::kCPU, torch::kBFloat16, {}});
        auto converted = loadQwen2VL(bf16, {torch::kCPU, torch::kFloat32, {}});
        QVERIFY(inPlace && converted);
        auto a = (*inPlace)->named_parameters(), b = (*converted)->named_parameters();
        for (const auto &item : a) {
            QCOMPARE(item.value().scalar_type(), torch::kBFloat16);
            QCOMPARE(b[item.key()].scalar_type(), torch::kFloat32);
            QVERIFY(torch::equal(item.value().to(torch::kFloat32), b[item.key()]));
        }
        // Writing to an adopted weight (a merge, full fine-tuning) changes the model, never the file.
        torch::NoGradGuard noGrad;
        a["model.norm.weight"].fill_(7);
        auto again = loadQwen2VL(bf16, {torch::kCPU, torch::kBFloat16, {}});
        QVERIFY(!torch::equal((*again)->named_parameters()["model.norm.weight"], a["model.norm.weight"]));
    }

    void mlpBlocksChangeNothing()
    {
        // An intermediate width of 8192 makes 64 MiB blocks of 2048 rows: 5000 rows are three blocks.
        torch::manual_seed(2);
        torch::NoGradGuard noGrad;
        TextConfig c;
        c.hiddenSize = 8;
        c.intermediateSize = 8192;
        DecoderMlp mlp(c);
        for (auto &p : mlp->parameters())
            p.normal_(0, 0.1);
        const auto x = torch::randn({2, 2500, 8});
        const auto named = mlp->named_parameters();
        const auto gate = torch::linear(x, named["gate_proj.weight"]), up = torch::linear(x, named["up_proj.weight"]);
        const auto want = torch::linear(torch::silu(gate) * up, named["down_proj.weight"]);
        const auto got = mlp(x);
        QCOMPARE(got.sizes(), want.sizes());
        QVERIFY((got - want).abs().max().item<double>() <= 1e-6 * want.abs().max().item<double>());

        VisionConfig vc;
        vc.embedDim = 8;
        vc.numHeads = 2;
        vc.mlpRatio = 1024; // 8192 hidden
        VisionMlp vision(vc);
        for (auto &p : vision->parameters())
            p.normal_(0, 0.1);
        const auto patches = torch::randn({5000, 8});
        const auto v = vision->named_parameters();
        const auto h = torch::linear(patches, v["fc1.weight"], v["fc1.bias"]);
        const auto vwant = torch::linear(h * torch::sigmoid(1.702 * h), v["fc2.weight"], v["fc2.bias"]);
        const auto vgot = vision(patches);
        QVERIFY((vgot - vwant).abs().max().item<double>() <= 1e-6 * vwant.abs().max().item<double>());
    }

    void loaderErrors()
    {
        const auto missing = editedCheckpoint("missing", [](auto &t) { t.erase("model.layers.1.mlp.up_proj.weight"); });
        auto r1 = loadQwen2VL(missing);
        QVERIFY(!r1);
        QVERIFY2(r1.error().message.find("no tensor 'model.layers.1.mlp.up_proj.weight'") != std::string::npos,
                 r1.error().message.c_str());

        const auto shape = editedCheckpoint("shape", [](auto &t) { t["model.norm.weight"] = torch::ones({63}); });
        auto r2 = loadQwen2VL(shape);
        QVERIFY(!r2);
        QVERIFY2(r2.error().message.find("model.safetensors: tensor 'model.norm.weight': shape [63]") != std::string::npos,
                 r2.error().message.c_str());

        const auto ints = editedCheckpoint("ints", [](auto &t) { t["model.norm.weight"] = torch::ones({64}, torch::kLong); });
        auto r3 = loadQwen2VL(ints);
        QVERIFY(!r3);
        QVERIFY2(r3.error().message.find("dtype I64 is not a float type") != std::string::npos, r3.error().message.c_str());

        const auto untied = editedCheckpoint("untied", [](auto &) {});
        auto cfg = goldenConfig();
        cfg["tie_word_embeddings"] = false;
        test::writeText(untied / "config.json", cfg.dump());
        auto r4 = loadQwen2VL(untied);
        QVERIFY(!r4);
        QVERIFY2(r4.error().message.find("no lm_head.weight") != std::string::npos, r4.error().message.c_str());
    }

    void untiedHeadAndBf16Checkpoint()
    {
        // An untied checkpoint stored in bf16 loads into fp32 with the file's values, and its logits
        // come from its own head: the final hidden states times lm_head, not the embedding matrix.
        std::map<std::string, torch::Tensor> stored;
        const auto untied = editedCheckpoint("untied-bf16", [&](auto &t) {
            for (auto &[n, v] : t)
                v = v.to(torch::kBFloat16);
            torch::manual_seed(5);
            t["lm_head.weight"] = torch::randn({512, 64}).to(torch::kBFloat16);
            stored = t;
        });
        auto cfg = goldenConfig();
        cfg["tie_word_embeddings"] = false;
        test::writeText(untied / "config.json", cfg.dump());
        auto model = loadQwen2VL(untied);
        QVERIFY2(model.has_value(), model ? "" : model.error().message.c_str());
        QCOMPARE((*model)->dtype(), torch::kFloat32);
        for (const auto &item : (*model)->named_parameters())
            QVERIFY2(torch::equal(item.value(), stored.at(item.key()).to(torch::kFloat32)), item.key().c_str());
        QVERIFY(torch::equal((*model)->lmHeadWeight(), stored.at("lm_head.weight").to(torch::kFloat32)));
        torch::NoGradGuard noGrad;
        ForwardInput in;
        in.inputIds = torch::tensor({{1, 17, 42, 99, 7}}, torch::kLong);
        in.logitPositions = allPositions(1, 5);
        in.keepHidden = true;
        const auto out = forward(*model, in);
        const auto expected = torch::matmul(out.hidden, stored.at("lm_head.weight").to(torch::kFloat32).t());
        QVERIFY2((out.logits - expected).abs().max().item<double>() < 1e-4, "logits are not hidden x lm_head");
        const auto tied = torch::matmul(out.hidden, (*model)->decoder()->embedTokens()->weight.t());
        QVERIFY((out.logits - tied).abs().max().item<double>() > 1e-2); // and not the embedding matrix's
    }

    void loraAdapterMerge()
    {
        const fs::path dir = dir_() / "adapter";
        fs::create_directories(dir);
        test::writeText(dir / "adapter_config.json",
                        R"({"peft_type": "LORA", "r": 4, "lora_alpha": 8, "target_modules": ["q_proj"]})");
        torch::manual_seed(3);
        const auto a = torch::randn({4, 64}), b = torch::randn({64, 4});
        // New-layout module path, as transformers >= 4.52 would save it.
        writeTensors(dir / "adapter_model.safetensors",
                     {{"base_model.model.model.language_model.layers.1.self_attn.q_proj.lora_A.weight", a},
                      {"base_model.model.model.language_model.layers.1.self_attn.q_proj.lora_B.weight", b}});
        auto model = *loadQwen2VL(test::goldenDir() / "model_a");
        const auto before = model->named_parameters()["model.layers.1.self_attn.q_proj.weight"].clone();
        auto merged = mergeLoraAdapter(model, dir);
        QVERIFY2(merged.has_value(), merged ? "" : merged.error().message.c_str());
        QCOMPARE(merged->mergedModules, std::size_t(1));
        const auto after = model->named_parameters()["model.layers.1.self_attn.q_proj.weight"];
        QVERIFY(torch::allclose(after, before + 2.0 * torch::matmul(b, a), 1e-5, 1e-5));
        // An unpaired or misplaced tensor is refused with its name.
        writeTensors(dir / "adapter_model.safetensors", {{"base_model.model.model.layers.0.mlp.up_proj.lora_A.weight", a}});
        auto unpaired = mergeLoraAdapter(model, dir);
        QVERIFY(!unpaired);
        QVERIFY2(unpaired.error().message.find("only one of lora_A and lora_B") != std::string::npos,
                 unpaired.error().message.c_str());
        writeTensors(dir / "adapter_model.safetensors", {{"base_model.model.model.layers.0.nothing.lora_A.weight", a},
                                                         {"base_model.model.model.layers.0.nothing.lora_B.weight", b}});
        QVERIFY(!mergeLoraAdapter(model, dir));
    }

    void ropeIndexRules()
    {
        const auto cfg = *Qwen2VLConfig::fromJson(goldenConfig(), "config.json");
        const auto &k = cfg.tokens;
        // text(2) <vs> 1x4x6 grid (6 tokens) <ve> text(1)
        std::vector<std::int64_t> ids{1, 2, k.visionStart};
        for (int i = 0; i < 6; ++i)
            ids.push_back(k.imageToken);
        ids.push_back(k.visionEnd);
        ids.push_back(3);
        const auto idsT = torch::tensor(ids).unsqueeze(0);
        const auto grid = torch::tensor({1, 4, 6}, torch::kLong).view({1, 3});
        const auto full = computeRopeIndex(idsT, grid, {}, k, 2);
        const auto p = full.positionIds;
        // Image tokens start at 3: temporal 3, rows 3..4, columns 3..5; then 6, 7.
        QCOMPARE(p[0][0][3].item<std::int64_t>(), std::int64_t(3));
        QCOMPARE(p[1][0][8].item<std::int64_t>(), std::int64_t(4));
        QCOMPARE(p[2][0][8].item<std::int64_t>(), std::int64_t(5));
        QCOMPARE(p[0][0][9].item<std::int64_t>(), std::int64_t(6));
        QCOMPARE(full.ropeDeltas[0][0].item<std::int64_t>(), std::int64_t(8 - 11));
        // Continuing from a split point gives the same positions.
        const auto head = computeRopeIndex(idsT.narrow(1, 0, 9), grid, {}, k, 2);
        const auto tail = computeRopeIndex(idsT.narrow(1, 9, 2), {}, {}, k, 2, head.nextPosition);
        QVERIFY(torch::equal(torch::cat({head.positionIds, tail.positionIds}, 2), p));
        // Too few image tokens, or a grid nobody uses, are errors.
        QVERIFY_THROWS_EXCEPTION(InputError, computeRopeIndex(idsT.narrow(1, 0, 6), grid, {}, k, 2));
        QVERIFY_THROWS_EXCEPTION(InputError, computeRopeIndex(torch::tensor({1, 2}).unsqueeze(0), grid, {}, k, 2));
    }

    void cachedContinuationEqualsFullForward()
    {
        auto model = *loadQwen2VL(test::goldenDir() / "model_a");
        torch::NoGradGuard noGrad;
        const auto file = "cases_a/single_image.safetensors";
        ForwardInput full;
        full.inputIds = goldenTensor(file, "input_ids");
        full.imageGridThw = goldenTensor(file, "image_grid_thw");
        full.pixelValues = goldenTensor("image_processor/pixel_values.safetensors", "img_b_84x112.pixel_values");
        const auto len = full.inputIds.size(1);
        full.logitPositions = allPositions(1, len);
        const auto reference = forward(model, full).logits;
        QCOMPARE(reference.sizes(), (std::vector<std::int64_t>{1, len, 512}));

        // Prefix with the image, then two continuations of the same prefix cache.
        const std::int64_t split = 30;
        KVCache prefixCache;
        ForwardInput prefix{full.inputIds.narrow(1, 0, split), {}, full.pixelValues, full.imageGridThw};
        forward(model, prefix, &prefixCache);
        QCOMPARE(prefixCache.length(), split);
        for (int round = 0; round < 2; ++round) {
            KVCache cache = prefixCache;
            ForwardInput rest{full.inputIds.narrow(1, split, len - split)};
            rest.logitPositions = allPositions(1, len - split);
            const auto logits = forward(model, rest, &cache).logits;
            QVERIFY((logits - reference.narrow(1, split, len - split)).abs().max().item<double>() < 1e-5);
            QCOMPARE(cache.length(), len);
        }
        QCOMPARE(prefixCache.length(), split); // the shared prefix is untouched

        // Only the last position's logits when that is what is asked.
        ForwardInput last = full;
        last.logitPositions = lastRealPositions(torch::ones({1, len}, torch::kLong));
        const auto one = forward(model, last).logits;
        QCOMPARE(one.size(1), std::int64_t(1));
        QVERIFY((one[0][0] - reference[0][len - 1]).abs().max().item<double>() < 1e-5); // GEMV vs GEMM rounding
    }

    void packedSequencesEqualTheirOwn()
    {
        // Two prompts sharing a head, packed into one row after the head's cache (each segment seeing
        // the head and itself, at its own positions), give each prompt's own logits; a cache cut to
        // its first keys (KVCache::leading) is that prefix's; caches laid one after another
        // (KVCache::concatenate) serve continuations that see only their own part.
        auto model = *loadQwen2VL(test::goldenDir() / "model_a");
        torch::NoGradGuard noGrad;
        const std::vector<std::int64_t> head{11, 12, 13, 14, 15, 16}, a{21, 22, 23, 24}, b{31, 32, 33};
        const auto join = [](std::vector<std::int64_t> x, const std::vector<std::int64_t> &y) {
            x.insert(x.end(), y.begin(), y.end());
            return x;
        };
        const auto logitsOf = [&](const std::vector<std::int64_t> &ids) {
            ForwardInput in{torch::tensor(ids).view({1, -1})};
            in.logitPositions = allPositions(1, static_cast<std::int64_t>(ids.size()));
            return forward(model, in).logits;
        };
        const auto fullA = logitsOf(join(head, a)), fullB = logitsOf(join(head, b));
        KVCache headCache;
        forward(model, ForwardInput{torch::tensor(head).view({1, -1})}, &headCache);

        const auto h = static_cast<std::int64_t>(head.size());
        ForwardInput packed{torch::tensor(join(a, b)).view({1, -1})};
        std::vector<std::int64_t> pos{6, 7, 8, 9, 6, 7, 8};
        packed.positionIds = torch::tensor(pos).view({1, 1, -1}).expand({3, 1, 7}).contiguous();
        auto allowed = torch::zeros({7, h + 7}, torch::kBool);
        allowed.narrow(1, 0, h).fill_(true);
        allowed.narrow(0, 0, 4).narrow(1, h, 4).copy_(torch::ones({4, 4}, torch::kBool).tril());
        allowed.narrow(0, 4, 3).narrow(1, h + 4, 3).copy_(torch::ones({3, 3}, torch::kBool).tril());
        packed.allowedKeys = allowed.unsqueeze(0);
        packed.logitPositions = allPositions(1, 7);
        KVCache cache = headCache;
        const auto got = forward(model, packed, &cache).logits;
        QVERIFY((got.narrow(1, 0, 4) - fullA.narrow(1, h, 4)).abs().max().item<double>() < 1e-5);
        QVERIFY((got.narrow(1, 4, 3) - fullB.narrow(1, h, 3)).abs().max().item<double>() < 1e-5);
        // Without the mask the second segment would see the first: the mask is what separates them.
        packed.allowedKeys = torch::Tensor();
        packed.positionIds = torch::Tensor();
        KVCache unmasked = headCache;
        QVERIFY((forward(model, packed, &unmasked).logits.narrow(1, 4, 3) - fullB.narrow(1, h, 3)).abs().max().item<double>() > 1e-3);

        // leading(): the first 4 keys of the head's cache continue as a 4-token prompt's would.
        const auto shortA = logitsOf(join({11, 12, 13, 14}, a));
        KVCache cut = headCache.leading(4);
        QCOMPARE(cut.length(), std::int64_t(4));
        QCOMPARE(cut.nextPosition.item<std::int64_t>(), std::int64_t(4));
        ForwardInput restA{torch::tensor(a).view({1, -1})};
        restA.logitPositions = allPositions(1, 4);
        QVERIFY((forward(model, restA, &cut).logits - shortA.narrow(1, 4, 4)).abs().max().item<double>() < 1e-5);
        QCOMPARE(headCache.length(), h); // the kept cache is untouched

        // concatenate(): head+a's and head+b's caches one after another; one more token for each, each
        // seeing its own prompt's keys only.
        KVCache cacheA, cacheB;
        forward(model, ForwardInput{torch::tensor(join(head, a)).view({1, -1})}, &cacheA);
        forward(model, ForwardInput{torch::tensor(join(head, b)).view({1, -1})}, &cacheB);
        auto both = KVCache::concatenate({cacheA, cacheB});
        const auto ka = cacheA.length(), kb = cacheB.length();
        QCOMPARE(both.length(), ka + kb);
        ForwardInput next{torch::tensor(std::vector<std::int64_t>{41, 41}).view({1, -1})};
        next.positionIds = torch::tensor(std::vector<std::int64_t>{ka, kb}).view({1, 1, -1}).expand({3, 1, 2}).contiguous();
        auto see = torch::zeros({2, ka + kb + 2}, torch::kBool);
        see[0].narrow(0, 0, ka).fill_(true);
        see[0][ka + kb] = true;
        see[1].narrow(0, ka, kb).fill_(true);
        see[1][ka + kb + 1] = true;
        next.allowedKeys = see.unsqueeze(0);
        next.logitPositions = allPositions(1, 2);
        const auto two = forward(model, next, &both).logits;
        const auto endA = logitsOf(join(join(head, a), {41})), endB = logitsOf(join(join(head, b), {41}));
        QVERIFY((two[0][0] - endA[0][ka]).abs().max().item<double>() < 1e-5);
        QVERIFY((two[0][1] - endB[0][kb]).abs().max().item<double>() < 1e-5);
    }
};

QTEST_GUILESS_MAIN(TestModelUnits)
#include "test_model_units.moc"
