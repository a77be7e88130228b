// SPDX-License-Identifier: GPL-3.0-or-later
// TrainingLoop's KL guard with a scripted stage: the tiny model's fresh LoRA adapters train on a
// quadratic pull, and the stage reports KL values from a script, so each rule of the guard is seen
// alone: above max_kl the weights and AdamW's state go back to the last measurement within the bound
// and the step size halves; above the target it halves only while KL still grows (a KL holding still
// above the target leaves the rate alone, instead of driving it to zero); only evaluations within the
// bound can be published; nothing published says why.
#include "core/training/trainable_policy.h"
#include "core/training/training_loop.h"
#include "test_support.h"

#include <QTemporaryDir>
#include <QTest>

using namespace unirank;
using namespace unirank::training;
namespace fs = std::filesystem;

namespace {

/// Ten steps of pulling every trainable tensor toward 1; KL and selection values from scripts indexed
/// by the completed step (checks every step, an evaluation at steps 5 and 10).
struct ScriptedStage : TrainingStage {
    TrainablePolicy &policy;
    std::map<std::int64_t, double> kl, selection;
    std::int64_t step = 0;
    std::vector<std::vector<torch::Tensor>> weightsAt; ///< at each check, before the guard acts
    std::vector<std::vector<torch::Tensor>> startOf;   ///< the weights each step starts from
    int rollbacks = 0;

    explicit ScriptedStage(TrainablePolicy &p) : policy(p) {}
    void prepare(const fs::path &) override {}
    std::int64_t totalSteps() const override { return 10; }
    std::int64_t stepsPerEpoch() const override { return 5; }
    bool evaluates() const override { return true; }
    std::optional<StepOutput> accumulate(std::int64_t s, const std::function<bool()> &) override
    {
        step = s + 1;
        std::vector<torch::Tensor> now;
        for (const auto &p : policy.parameters())
            now.push_back(p.detach().clone());
        startOf.push_back(now);
        torch::Tensor loss = torch::zeros({});
        for (auto &p : policy.parameters())
            loss = loss + (p - 1).pow(2).sum();
        loss.backward();
        return StepOutput{loss.item<double>(), {}};
    }
    HeldOutEvaluation evaluate() override
    {
        return {{{"val_kl", kl.count(step) ? kl[step] : 0.0}}, selection.count(step) ? selection[step] : 0.0,
                kl.count(step) ? kl[step] : 0.0};
    }
    double checkKl() override
    {
        std::vector<torch::Tensor> now;
        for (const auto &p : policy.parameters())
            now.push_back(p.detach().clone());
        weightsAt.push_back(now);
        return kl.count(step) ? kl[step] : 0.0;
    }
    void afterRollback() override { ++rollbacks; }
};

std::vector<torch::Tensor> copyOf(std::vector<torch::Tensor> &params)
{
    std::vector<torch::Tensor> out;
    for (const auto &p : params)
        out.push_back(p.detach().clone());
    return out;
}

bool equal(const std::vector<torch::Tensor> &a, const std::vector<torch::Tensor> &b)
{
    for (std::size_t i = 0; i < a.size(); ++i)
        if (!torch::equal(a[i], b[i]))
            return false;
    return true;
}

} // namespace

class TestTrainingLoop : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;

    struct Setup {
        std::shared_ptr<scoring::ScoringModel> model = scoring::loadScoringModel(test::sourceDir() / "resources/models/tiny-random").value();
        TrainingArguments args;
        std::unique_ptr<TrainablePolicy> policy;
        Setup()
        {
            args.learning_rate = 1e-2;
            args.warmup_ratio = 0;
            args.lr_scheduler_type = "constant";
            args.r = 2;
            args.target_modules = {"q_proj"};
            policy = std::make_unique<TrainablePolicy>(model, "tiny");
            policy->setup(args, {});
        }
    };

    fs::path dir(const char *name) const { return fs::path(m_dir.path().toStdString()) / name; }

private slots:
    void rollbackRestoresWeightsAndHalves()
    {
        Setup s;
        ScriptedStage stage(*s.policy);
        stage.kl = {{1, 0.1}, {2, 0.2}, {3, 5.0}, {4, 0.1}, {5, 0.1}, {6, 0.1}};
        stage.selection = {{5, 0.7}, {10, 0.6}};
        TrainingLoop loop(*s.policy, s.args, dir("rollback"), {1.0, 0.5, 1});
        const auto r = loop.run(stage, false);
        QCOMPARE(r.klRollbacks, 1);
        QCOMPARE(stage.rollbacks, 1);
        QCOMPARE(r.lrScale, 0.5);
        // Step 3's check (KL 5) put step 2's weights back: step 4 started from them, not from step 3's.
        QVERIFY(equal(stage.startOf[3], stage.weightsAt[1]));
        QVERIFY(!equal(stage.startOf[3], stage.weightsAt[2]));
        QVERIFY(equal(stage.startOf[2], stage.weightsAt[1])); // (and without a rollback, steps chain)
        QCOMPARE(r.bestStep, std::int64_t(5)); // the evaluation at 5 (0.7) within the bound
        QVERIFY(!r.published.empty() && r.notPublished.empty());
        // The learning rate of the steps after the rollback is half the configured one.
        double after = 0;
        for (const auto &h : r.history)
            if (h.value("step", 0) == 4 && h.contains("learning_rate"))
                after = h["learning_rate"].get<double>();
        QCOMPARE(after, 0.5e-2);
    }

    void targetHalvesOnlyWhileGrowing()
    {
        Setup s;
        ScriptedStage stage(*s.policy);
        // Above the target (0.5) at every check from step 2, growing until step 4, then holding still.
        stage.kl = {{1, 0.1}, {2, 0.6}, {3, 0.7}, {4, 0.8}, {5, 0.8}, {6, 0.8}, {7, 0.8}, {8, 0.8}, {9, 0.8}, {10, 0.8}};
        stage.selection = {{5, 0.5}, {10, 0.6}};
        TrainingLoop loop(*s.policy, s.args, dir("target"), {1.0, 0.5, 1});
        const auto r = loop.run(stage, false);
        QCOMPARE(r.klRollbacks, 0);
        // Halved at steps 2, 3 and 4 (checks), and at step 5 (the first evaluation's KL is new to its kind).
        QCOMPARE(r.lrScale, 1.0 / 16);
        QCOMPARE(r.bestStep, std::int64_t(10));
    }

    void nothingWithinTheBoundPublishesNothing()
    {
        Setup s;
        ScriptedStage stage(*s.policy);
        const auto start = copyOf(s.policy->parameters());
        for (std::int64_t k = 1; k <= 10; ++k)
            stage.kl[k] = 2.0;
        TrainingLoop loop(*s.policy, s.args, dir("none"), {1.0, 0.5, 1});
        const auto r = loop.run(stage, false);
        QVERIFY(r.stoppedByKl);
        QCOMPARE(r.steps, std::int64_t(7)); // the 7th halving above max_kl stops the round
        QVERIFY(r.published.empty());
        QVERIFY2(r.notPublished.find("max_kl") != std::string::npos, r.notPublished.c_str());
        QVERIFY(equal(copyOf(s.policy->parameters()), start)); // every step was taken back
    }
};

QTEST_GUILESS_MAIN(TestTrainingLoop)
#include "test_training_loop.moc"
