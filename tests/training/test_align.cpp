// SPDX-License-Identifier: GPL-3.0-or-later
// AlignTrainer on the smoke set with the tiny model: DPO and PL-GRPO runs cancelled halfway and resumed
// end on the same adapter as uninterrupted ones (mined pairs and generator state are in the checkpoint);
// the starting adapter, the reference, is never written; the KL guard takes back steps that leave
// max_kl and halves the step size (a bound no step keeps publishes nothing and says why; a too-large
// learning rate still publishes inside the bound); selection and reporting queries are apart; the
// configuration uses TRL's names and refuses unknown keys and bad values.
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

    /// A bound no step can keep: the guard puts the start's weights back at every check and halves the
    /// step size each time; nothing is published and the summary says why; after kl_max halvings it stops.
    void klGuardRollsBack()
    {
        auto c = config(10);
        c.max_kl = 1e-9;
        c.learning_rate = 1e-2;
        c.kl_check_steps = 1;
        c.lora_dropout = 0; // so the rolled-back adapter is the start's bit for bit
        const auto out = dir("tight");
        const auto r = AlignTrainer(loadTiny(), AlignMethod::Dpo, c, m_train, m_validation, out, "tiny", m_start).run(false);
        QVERIFY(r.stoppedByKl);
        QCOMPARE(r.klRollbacks, 7);         // the 7th halving above max_kl stops the run
        QCOMPARE(r.steps, std::int64_t(7));
        QCOMPARE(r.lrScale, 1.0 / 128);
        QVERIFY(r.best.empty());
        QVERIFY2(r.notPublished.find("max_kl") != std::string::npos, r.notPublished.c_str());
        QCOMPARE(r.before.kl, 0.0);
        QCOMPARE(maxDifference(m_start, r.lastCheckpoint), 0.0); // every update was taken back
    }

    /// A learning rate that leaves max_kl within two steps: the guard goes back and halves the step size
    /// until the policy stays inside, and the round publishes a checkpoint within the bound.
    void klGuardPublishesWithinTheBound()
    {
        auto c = config(12);
        c.max_kl = 0.05;
        c.learning_rate = 3e-2;
        c.kl_check_steps = 2;
        c.kl_check_queries = 1; // of the 2 selection queries: the checks between evaluations use the first
        c.eval_steps = 4;
        const auto r = AlignTrainer(loadTiny(), AlignMethod::Dpo, c, m_train, m_validation, dir("guarded"), "tiny", m_start).run(false);
        qInfo("guard: %d rollbacks, scale %.4g, published step %lld with KL %.4g", r.klRollbacks, r.lrScale,
              static_cast<long long>(r.bestStep), r.after.kl);
        QVERIFY(r.klRollbacks >= 1);
        QVERIFY(r.lrScale < 1);
        QVERIFY(!r.best.empty());
        QVERIFY(r.bestStep > 0);
        QVERIFY(r.after.kl <= c.max_kl);
        QVERIFY(r.notPublished.empty());
    }

    /// The held-out queries are split: selection chooses, reporting only reports (start and published).
    void selectionAndReportingSplits()
    {
        auto c = config(4);
        c.report_split = 0.5;
        const auto r = AlignTrainer(loadTiny(), AlignMethod::Dpo, c, m_train, m_validation, dir("splits"), "tiny", m_start).run(false);
        QCOMPARE(r.reportingQueries, std::size_t(2));
        QCOMPARE(r.before.queries, std::size_t(2));
        QVERIFY(r.reportBefore.pairs > 0);
        QVERIFY(r.before.pairs > 0);
        QVERIFY(!r.best.empty());
        // The reporting figures are the published checkpoint's: evaluate its adapter on those queries alone.
        auto none = c;
        none.report_split = 0;
        auto validationOnly = std::vector<AlignGroup>{};
        std::vector<std::string> ids;
        for (const auto &g : m_validation)
            ids.push_back(g.group.queryId);
        const auto split = splitHeldOut(ids, 0.5, c.seed);
        for (const auto i : split.reporting)
            validationOnly.push_back(m_validation[i]);
        none.max_steps = 1;
        // A run from the published adapter evaluates it, as its start, on these queries as selection ones.
        const auto e = AlignTrainer(loadTiny(), AlignMethod::Dpo, none, m_train, validationOnly, dir("splits-check"), "tiny", r.best)
                           .run(false)
                           .before;
        QCOMPARE(e.pairs, r.reportAfter.pairs);
        QVERIFY2(std::abs(e.pairAccuracy - r.reportAfter.pairAccuracy) < 1e-12,
                 (std::to_string(e.pairAccuracy) + " vs " + std::to_string(r.reportAfter.pairAccuracy)).c_str());
        QVERIFY(r.reportAfter.pairAccuracy != r.reportBefore.pairAccuracy || r.reportAfter.kl > 0); // the published one moved
    }
};

QTEST_GUILESS_MAIN(TestAlign)
#include "test_align.moc"
