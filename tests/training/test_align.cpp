// SPDX-License-Identifier: GPL-3.0-or-later
// AlignTrainer on the smoke set with the tiny model: DPO and PL-GRPO runs cancelled halfway and resumed
// end on the same adapter as uninterrupted ones (mined pairs and generator state are in the checkpoint);
// the starting adapter, the reference, is never written; a KL bound too tight for any step publishes
// nothing; the configuration uses TRL's names and refuses unknown keys and bad values.
#include "core/model/lora.h"
#include "core/model/torch_io.h"
#include "core/training/align_trainer.h"
#include "storage/alignment_data.h"
#include "storage/dataset_import.h"
#include "storage/repo/catalog.h"
#include "test_support.h"

#include <QTemporaryDir>
#include <QTest>

#include <map>

#include <fstream>

using namespace unirank;
using namespace unirank::training;
namespace fs = std::filesystem;

namespace {

fs::path tinyModel() { return test::sourceDir() / "resources/models/tiny-random"; }

std::shared_ptr<scoring::ScoringModel> loadTiny() { return scoring::loadScoringModel(tinyModel()).value(); }

std::string bytesOf(const fs::path &file)
{
    std::ifstream in(file, std::ios::binary);
    return std::string(std::istreambuf_iterator<char>(in), {});
}

double maxDifference(const fs::path &a, const fs::path &b)
{
    const auto wa = model::readSafetensors(a / "adapter_model.safetensors").value();
    const auto wb = model::readSafetensors(b / "adapter_model.safetensors").value();
    if (wa.size() != wb.size())
        return 1e9;
    double worst = 0;
    for (const auto &[name, t] : wa)
        worst = std::max(worst, (t - wb.at(name)).abs().max().item<double>());
    return worst;
}

} // namespace

class TestAlign : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    std::vector<AlignGroup> m_train, m_validation;
    fs::path m_start;

    fs::path dir(const std::string &name) const { return fs::path(m_dir.path().toStdString()) / name; }

    AlignConfig config(std::int64_t steps) const
    {
        AlignConfig c;
        c.max_steps = steps;
        c.learning_rate = 1e-3;
        c.per_device_train_batch_size = 4;
        c.save_steps = steps / 2;
        c.lora_dropout = 0.1; // the generator state must survive the resume
        c.disable_dropout = false;
        c.num_generations = 4;
        c.mined_pairs_per_query = 4;
        c.max_kl = 1e9;
        c.kl_samples = 32;
        return c;
    }

    /// Runs `steps`, or half of them, cancels, and resumes in a fresh trainer; returns the final folder.
    AlignResult run(AlignMethod method, const AlignConfig &c, const fs::path &out, bool interrupt)
    {
        if (!interrupt)
            return AlignTrainer(loadTiny(), method, c, m_train, m_validation, out, "tiny", m_start).run(false);
        {
            AlignTrainer first(loadTiny(), method, c, m_train, m_validation, out, "tiny", m_start);
            std::int64_t step = 0;
            TrainCallbacks cb;
            cb.onProgress = [&](const TrainProgress &p) { step = p.step; };
            cb.cancelled = [&] { return step >= c.max_steps / 2; };
            const auto half = first.run(false, cb);
            if (!half.cancelled || half.steps != c.max_steps / 2)
                qFatal("the first half did not stop where asked");
        }
        return AlignTrainer(loadTiny(), method, c, m_train, m_validation, out, "tiny", m_start).run(true);
    }

private slots:
    void initTestCase()
    {
        auto project = std::move(*storage::Project::create(dir("a.unirank")));
        QVERIFY(storage::importDataset(*project, test::smokeDataset(), {}));
        const auto collection = storage::listCollections(project->db()).front().id;
        auto data = storage::buildAlignmentData(*project, collection, {1, true, true, 6, 8});
        QCOMPARE(data.groups.size(), std::size_t(20));
        m_validation.assign(data.groups.end() - 4, data.groups.end());
        m_train.assign(data.groups.begin(), data.groups.end() - 4);
        // The starting adapter (the reference): random, saved as a PEFT folder.
        auto m = loadTiny();
        model::LoraConfig lora;
        lora.settings = {4, 8, 0.0, false};
        torch::manual_seed(3);
        model::addLoraAdapters(m->model, lora);
        {
            torch::NoGradGuard noGrad;
            for (auto &[name, t] : model::loraParameters(m->model))
                if (name.ends_with("lora_B.weight"))
                    t.normal_(0, 0.05);
        }
        m_start = dir("start");
        model::saveLoraAdapter(m->model, lora, m_start, tinyModel().string());
    }

    void configNames()
    {
        const auto c = AlignConfig::fromJson(nlohmann::json::parse(R"({"beta": 0.5, "num_generations": 4, "epsilon": 0.1})"), "a.json");
        QCOMPARE(c.beta, 0.5);
        QCOMPARE(c.num_generations, std::int64_t(4));
        QCOMPARE(c.learning_rate, 2e-3); // PL-GRPO (the default method): its own defaults
        QCOMPARE(c.per_device_train_batch_size, std::int64_t(2));
        QCOMPARE(c.num_train_epochs, 2.0);
        const auto d = AlignConfig::fromJson(nlohmann::json::parse(R"({"beta": 0.5})"), "d.json", AlignMethod::Dpo);
        QCOMPARE(d.learning_rate, 2e-4);
        QCOMPARE(d.per_device_train_batch_size, std::int64_t(8));
        QCOMPARE(d.num_train_epochs, 1.0);
        QCOMPARE(parseAlignMethod("dpo"), AlignMethod::Dpo);
        QCOMPARE(parseAlignMethod(toString(kDefaultAlignMethod)), AlignMethod::PlGrpo);
        QVERIFY_THROWS_EXCEPTION(InputError, parseAlignMethod("ppo"));
        QVERIFY(AlignConfig::fromJson(c.toJson(), "again").toJson() == c.toJson());
        for (const char *bad : {R"({"bta": 1})", R"({"num_generations": 1})", R"({"unjudged_rule": "maybe"})", R"({"epsilon": 2})",
                                R"({"listwise_weight": 1})"})
            QVERIFY_THROWS_EXCEPTION(InputError, AlignConfig::fromJson(nlohmann::json::parse(bad), "a.json"));
    }

    void resumeIsExact_data()
    {
        QTest::addColumn<bool>("grpo");
        QTest::newRow("dpo") << false;
        QTest::newRow("pl-grpo") << true;
    }

    void resumeIsExact()
    {
        QFETCH(bool, grpo);
        const auto method = grpo ? AlignMethod::PlGrpo : AlignMethod::Dpo;
        const auto reference = bytesOf(m_start / "adapter_model.safetensors");
        const auto c = config(4);
        const auto tag = std::string(grpo ? "grpo" : "dpo");
        const auto whole = run(method, c, dir(tag + "-whole"), false);
        const auto resumed = run(method, c, dir(tag + "-resumed"), true);
        QCOMPARE(whole.steps, std::int64_t(4));
        QCOMPARE(resumed.steps, std::int64_t(4));
        QVERIFY(resumed.resumed);
        QVERIFY(whole.trainingPairs > 0 && whole.trainingPairs == resumed.trainingPairs);
        const auto diff = maxDifference(dir(tag + "-whole") / "checkpoint-4", dir(tag + "-resumed") / "checkpoint-4");
        QVERIFY2(diff <= 1e-6, std::to_string(diff).c_str());
        QCOMPARE(whole.rewardLast, resumed.rewardLast);
        QVERIFY(maxDifference(m_start, dir(tag + "-whole") / "checkpoint-4") > 1e-4); // it trained
        QCOMPARE(bytesOf(m_start / "adapter_model.safetensors"), reference);             // the reference did not
        QVERIFY(fs::exists(dir(tag + "-whole") / "preferences-round-1.jsonl"));
        QVERIFY(!whole.best.empty());
    }

    void grpoStepsOnItsSamples()
    {
        // num_iterations 3: each batch's rankings are sampled once and three optimizer steps taken on
        // them. The reward (of the kept samples) is the same over a batch's steps; the first step is
        // on-policy (ratio 1, nothing clipped); after a large update the ratio leaves [1 - eps,
        // 1 + eps] and clipping shows. Sampling again at every step (the old behaviour) fails both.
        auto c = config(6);
        c.num_iterations = 3;
        c.epsilon = 0.01;
        c.learning_rate = 5e-2;
        c.logging_steps = 1;
        c.save_steps = 0;
        std::map<std::int64_t, std::map<std::string, double>> metrics;
        TrainCallbacks cb;
        cb.onMetrics = [&](std::int64_t step, const std::vector<std::pair<std::string, double>> &m) {
            for (const auto &[k, v] : m)
                metrics[step][k] = v;
        };
        const auto r = AlignTrainer(loadTiny(), AlignMethod::PlGrpo, c, m_train, m_validation, dir("iterations"), "tiny", m_start)
                           .run(false, cb);
        QCOMPARE(r.steps, std::int64_t(6));
        for (const std::int64_t first : {1, 4}) {
            QCOMPARE(metrics[first].at("clip_ratio"), 0.0);
            QCOMPARE(metrics[first + 1].at("reward"), metrics[first].at("reward"));
            QCOMPARE(metrics[first + 2].at("reward"), metrics[first].at("reward"));
        }
        QVERIFY(metrics[1].at("reward") != metrics[4].at("reward")); // the second batch sampled anew
        double clipped = 0;
        for (const auto step : {2, 3, 5, 6})
            clipped = std::max(clipped, metrics[step].at("clip_ratio"));
        QVERIFY2(clipped > 0, std::to_string(clipped).c_str());
    }

    void dropoutAsTheReference()
    {
        // A first PL-GRPO step's KL to the reference (measured before the update): exactly 0 when the
        // policy trains without dropout as the reference was scored (the default), above 0 with the
        // adapter's dropout on; that is the difference the option removes.
        // The starting adapter with dropout 0.1 in its config (a continued adapter keeps its own).
        const auto start = dir("start-dropout");
        fs::create_directories(start);
        fs::copy_file(m_start / "adapter_model.safetensors", start / "adapter_model.safetensors");
        auto adapterConfig = nlohmann::json::parse(test::readText(m_start / "adapter_config.json"));
        adapterConfig["lora_dropout"] = 0.1;
        test::writeText(start / "adapter_config.json", adapterConfig.dump());
        const auto firstKl = [&](bool disable, const std::string &name) {
            auto c = config(1);
            c.disable_dropout = disable;
            c.save_steps = 0;
            double kl = -1;
            TrainCallbacks cb;
            cb.onMetrics = [&](std::int64_t step, const std::vector<std::pair<std::string, double>> &m) {
                for (const auto &[k, v] : m)
                    if (step == 1 && k == "kl")
                        kl = v;
            };
            AlignTrainer(loadTiny(), AlignMethod::PlGrpo, c, m_train, m_validation, dir(name), "tiny", start).run(false, cb);
            return kl;
        };
        QCOMPARE(firstKl(true, "no-dropout"), 0.0);
        const auto withDropout = firstKl(false, "dropout");
        QVERIFY2(withDropout > 1e-6, std::to_string(withDropout).c_str());
        qInfo("first-step KL to the reference: 0 without dropout, %.3g with the adapter's dropout 0.1", withDropout);
        QVERIFY(AlignConfig{}.disable_dropout);
    }

    void klBoundStopsTheRound()
    {
        auto c = config(4);
        c.max_kl = 1e-9;
        c.learning_rate = 1e-2;
        const auto r = AlignTrainer(loadTiny(), AlignMethod::Dpo, c, m_train, m_validation, dir("tight"), "tiny", m_start).run(false);
        QVERIFY(r.stoppedByKl);
        QVERIFY(r.steps < 4 || r.final.kl > c.max_kl);
        QVERIFY(r.best.empty()); // nothing within the bound to publish
        QCOMPARE(r.before.kl, 0.0);
    }
};

QTEST_GUILESS_MAIN(TestAlign)
#include "test_align.moc"
