// SPDX-License-Identifier: GPL-3.0-or-later
// Training parity with the reference (golden train_a): loss, the logits that predict the answer,
// gradients, one SGD step and three AdamW steps. This guards the training issues: a forward that
// matches at inference but differentiates differently (tied embedding counted twice, a missing
// gradient path into the vision tower) fails here.
//
// Tolerances come from train_a/train.json and tolerances.json: the reference's own spread (another
// BLAS build, float64 vs float32), times the same independence factor as the forward parity.
#include "core/model/lm_loss.h"
#include "core/model/loader.h"
#include "core/model/parity.h"
#include "core/model/torch_io.h"
#include "core/util/atomic_file.h"
#include "test_support.h"

#include <QTest>

#include <nlohmann/json.hpp>

using namespace unirank;
using namespace unirank::model;
using nlohmann::json;

namespace {

struct TrainCase {
    ForwardInput input;
    torch::Tensor labels;
    std::map<std::string, torch::Tensor> tensors;
    json meta, spread;
};

TrainCase loadCase()
{
    const auto dir = test::goldenDir();
    TrainCase c;
    c.meta = json::parse(readWholeFile(dir / "train_a" / "train.json"));
    c.spread = json::parse(readWholeFile(dir / "tolerances.json")).at("training");
    c.tensors = *readSafetensors(dir / "train_a" / "train.safetensors");
    const auto &src = c.meta.at("pixel_values_from")[0];
    auto pixels = tensor::SafetensorsFile::open(dir / src.at("file").get<std::string>());
    c.input.pixelValues = readTensor(**pixels, src.at("tensor").get<std::string>());
    c.input.inputIds = c.tensors.at("input_ids");
    c.input.attentionMask = c.tensors.at("attention_mask");
    c.input.imageGridThw = c.tensors.at("image_grid_thw");
    c.labels = c.tensors.at("labels");
    return c;
}

double lossOf(Qwen2VL &model, const TrainCase &c)
{
    torch::NoGradGuard noGrad;
    return languageModelLoss(model, c.input, c.labels).loss.item<double>();
}

} // namespace

class TestTrainParity : public QObject {
    Q_OBJECT
    TrainCase m_case;
    double m_factor = kIndependentFactor;

    /// Absolute tolerance for a loss near `value`: the reference's own recorded spread for it, or the
    /// forward parity's relative spread times the loss when that is larger (logits feed the loss).
    double lossTolerance(double recordedAbs, double value) const
    {
        return m_factor * std::max(recordedAbs, *referenceRelativeSpread(test::goldenDir()) * std::abs(value));
    }

private slots:
    void initTestCase()
    {
        m_case = loadCase();
        torch::manual_seed(0);
    }

    void lossLogitsAndGradients()
    {
        auto model = *loadQwen2VL(test::goldenDir() / "model_a");
        model->train();
        const auto out = languageModelLoss(model, m_case.input, m_case.labels);
        QCOMPARE(out.positions.size(0), std::int64_t(1));
        QCOMPARE(out.positions[0][1].item<std::int64_t>(), std::int64_t(38)); // L-2 predicts the answer
        const double refLoss = m_case.meta.at("loss").get<double>();
        const double lossTol = lossTolerance(
            std::max(m_case.spread.at("reference_blas_vs_openblas").at("loss_abs").get<double>(),
                     std::abs(m_case.meta.at("loss_float64_model").get<double>() - refLoss)),
            refLoss);
        qInfo("loss %.9g vs %.9g (|d| %.3g, tolerance %.3g)", out.loss.item<double>(), refLoss,
              std::abs(out.loss.item<double>() - refLoss), lossTol);
        QVERIFY(std::abs(out.loss.item<double>() - refLoss) <= lossTol);
        const auto refLogits = m_case.tensors.at("last_logits");
        const double logitTol = m_factor * *referenceRelativeSpread(test::goldenDir()) * refLogits.abs().max().item<double>();
        const double logitDiff = (out.logits[0].detach() - refLogits).abs().max().item<double>();
        qInfo("last logits max |d| %.3g (tolerance %.3g)", logitDiff, logitTol);
        QVERIFY(logitDiff <= logitTol);

        out.loss.backward();
        // Per-parameter gradient norms (57 of them) and the full gradients stored for seven.
        const double gradRel = m_factor * std::max(m_case.meta.at("grad_max_relative_error_vs_float64").get<double>(),
                                                   m_case.spread.at("reference_blas_vs_openblas").at("grad_norm_max_relative").get<double>());
        double total = 0, worstNorm = 0;
        const auto params = model->named_parameters();
        for (const auto &[name, refNorm] : m_case.meta.at("grad_norms").items()) {
            const auto *p = params.find(name);
            QVERIFY2(p, name.c_str());
            QVERIFY2(p->grad().defined(), name.c_str());
            const double norm = p->grad().norm().item<double>();
            total += norm * norm;
            const double rel = std::abs(norm - refNorm.get<double>()) / std::max(refNorm.get<double>(), 1e-12);
            worstNorm = std::max(worstNorm, rel);
            QVERIFY2(rel <= gradRel, qPrintable(QString("%1: %2 vs %3").arg(name.c_str()).arg(norm).arg(refNorm.get<double>())));
        }
        QCOMPARE(m_case.meta.at("grad_norms").size(), params.size());
        const double refTotal = m_case.meta.at("grad_total_norm").get<double>();
        QVERIFY(std::abs(std::sqrt(total) - refTotal) / refTotal <= gradRel);
        double worstFull = 0;
        for (const auto &[key, ref] : m_case.tensors) {
            if (!key.starts_with("grad."))
                continue;
            const auto name = key.substr(5);
            const auto diff = (params[name].grad() - ref).norm().item<double>() / ref.norm().item<double>();
            worstFull = std::max(worstFull, diff);
            QVERIFY2(diff <= gradRel, qPrintable(QString("%1: relative L2 difference %2").arg(name.c_str()).arg(diff)));
        }
        qInfo("gradient norms worst relative |d| %.3g, full gradients worst relative L2 %.3g (tolerance %.3g)",
              worstNorm, worstFull, gradRel);
    }

    void sgdStep()
    {
        auto model = *loadQwen2VL(test::goldenDir() / "model_a");
        model->train();
        languageModelLoss(model, m_case.input, m_case.labels).loss.backward();
        {
            torch::NoGradGuard noGrad;
            for (auto &p : model->parameters())
                p -= 0.1 * p.grad();
        }
        const double ref = m_case.meta.at("sgd").at("loss_after_one_step").get<double>();
        const double got = lossOf(model, m_case);
        const double tol = lossTolerance(m_case.spread.at("reference_blas_vs_openblas").at("loss_after_sgd_abs").get<double>(), ref);
        qInfo("loss after SGD %.9g vs %.9g (tolerance %.3g)", got, ref, tol);
        QVERIFY(std::abs(got - ref) <= tol);
    }

    void adamwSteps()
    {
        auto model = *loadQwen2VL(test::goldenDir() / "model_a");
        model->train();
        const auto &cfg = m_case.meta.at("adamw");
        const auto betas = cfg.at("betas");
        torch::optim::AdamW opt(model->parameters(), torch::optim::AdamWOptions(cfg.at("lr").get<double>())
                                                         .betas({betas[0].get<double>(), betas[1].get<double>()})
                                                         .eps(cfg.at("eps").get<double>())
                                                         .weight_decay(cfg.at("weight_decay").get<double>()));
        const auto refs = cfg.at("loss_before_step_1_2_3_and_after_step_3");
        const double recorded = m_case.spread.at("reference_blas_vs_openblas").at("adamw_losses_max_abs").get<double>();
        for (std::size_t step = 0; step < 4; ++step) {
            opt.zero_grad();
            const auto loss = languageModelLoss(model, m_case.input, m_case.labels).loss;
            const double ref = refs[step].get<double>();
            const double tol = lossTolerance(recorded, ref);
            qInfo("AdamW loss %zu: %.9g vs %.9g (|d| %.3g, tolerance %.3g)", step, loss.item<double>(), ref,
                  std::abs(loss.item<double>() - ref), tol);
            QVERIFY(std::abs(loss.item<double>() - ref) <= tol);
            if (step == 3)
                break;
            loss.backward();
            opt.step();
        }
    }
};

QTEST_GUILESS_MAIN(TestTrainParity)
#include "test_train_parity.moc"
