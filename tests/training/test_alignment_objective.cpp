// SPDX-License-Identifier: GPL-3.0-or-later
// The alignment objectives against closed forms: Plackett-Luce probabilities (pairs, triples, top-k
// prefixes, temperature), their gradient, and sampling frequencies; the DPO loss and its gradient; the
// ranking reward; group-relative advantages; the clipped GRPO surrogate with its k3 KL term; the
// sampled ranking KL against the exact KL of two items.
#include "core/training/alignment_objective.h"
#include "core/training/plackett_luce.h"

#include "core/util/error.h"

#include <QTest>

#include <cmath>
#include <map>

using namespace unirank::training;

namespace {

double sigmoid(double x) { return 1.0 / (1.0 + std::exp(-x)); }

torch::Tensor rows(std::vector<std::vector<std::int64_t>> r)
{
    std::vector<torch::Tensor> out;
    for (auto &row : r)
        out.push_back(torch::tensor(row, torch::kLong));
    return torch::stack(out);
}

bool near(double a, double b, double tol = 1e-6) { return std::abs(a - b) <= tol; }

} // namespace

class TestAlignmentObjective : public QObject {
    Q_OBJECT

private slots:
    void plackettLuceClosedForms()
    {
        // Two items: P(0 before 1) = sigmoid(s0 - s1).
        const auto two = torch::tensor({0.7, -0.4});
        QVERIFY(near(plLogProb(two, rows({{0, 1}}))[0].item<double>(), std::log(sigmoid(1.1))));
        QVERIFY(near(plLogProb(two, rows({{1, 0}}))[0].item<double>(), std::log(sigmoid(-1.1))));
        // Three items: e^a / (e^a + e^b + e^c) * e^b / (e^b + e^c), and the six orders sum to one.
        const double a = 1.0, b = 0.2, c = -0.5;
        const auto three = torch::tensor({a, b, c});
        const double p012 = std::exp(a) / (std::exp(a) + std::exp(b) + std::exp(c)) * std::exp(b) / (std::exp(b) + std::exp(c));
        QVERIFY(near(plLogProb(three, rows({{0, 1, 2}}))[0].item<double>(), std::log(p012)));
        const auto all = rows({{0, 1, 2}, {0, 2, 1}, {1, 0, 2}, {1, 2, 0}, {2, 0, 1}, {2, 1, 0}});
        QVERIFY(near(plLogProb(three, all).exp().sum().item<double>(), 1.0));
        // Top-k prefixes: the first choice is a softmax; a top-2 prefix keeps the third item in both
        // denominators.
        const auto first = plLogProb(three, rows({{0}, {1}, {2}}));
        QVERIFY(torch::allclose(first, torch::log_softmax(three, 0), 1e-6, 1e-6));
        QVERIFY(near(plLogProb(three, rows({{0, 1}}))[0].item<double>(), std::log(p012)));
        const double p20 = std::exp(c) / (std::exp(a) + std::exp(b) + std::exp(c)) * std::exp(a) / (std::exp(a) + std::exp(b));
        QVERIFY(near(plLogProb(three, rows({{2, 0}}))[0].item<double>(), std::log(p20)));
        // Temperature divides the scores.
        QVERIFY(near(plLogProb(two, rows({{0, 1}}), 2.0)[0].item<double>(), std::log(sigmoid(0.55))));
        // Per-position terms sum to the ranking's log-probability.
        QVERIFY(near(plStepLogProbs(three, all).sum(1)[3].item<double>(), plLogProb(three, all)[3].item<double>()));
        QVERIFY_THROWS_EXCEPTION(unirank::InputError, plLogProb(three, rows({{0, 1, 2, 0}})));
    }

    void plackettLuceGradient()
    {
        // d log sigmoid(s0 - s1) / d s0 = sigmoid(s1 - s0) = -d / d s1.
        auto s = torch::tensor({0.3, 1.2}, torch::requires_grad());
        plLogProb(s, rows({{0, 1}})).sum().backward();
        QVERIFY(near(s.grad()[0].item<double>(), sigmoid(0.9)));
        QVERIFY(near(s.grad()[1].item<double>(), -sigmoid(0.9)));
    }

    void plackettLuceSampling()
    {
        // 40000 draws of three items: each order's frequency within 5 binomial standard deviations of
        // its probability, and the first choice's frequency within 5 of softmax.
        const auto scores = torch::log(torch::tensor({0.5, 0.3, 0.2}));
        auto gen = at::make_generator<at::CPUGeneratorImpl>(1234);
        const std::int64_t n = 40000;
        const auto samples = plSample(scores, n, 1.0, gen);
        QCOMPARE(samples.sizes(), (c10::IntArrayRef{n, 3}));
        std::map<std::vector<std::int64_t>, int> counts;
        for (std::int64_t i = 0; i < n; ++i) {
            const auto r = samples[i];
            counts[{r[0].item<std::int64_t>(), r[1].item<std::int64_t>(), r[2].item<std::int64_t>()}]++;
        }
        QCOMPARE(counts.size(), std::size_t(6));
        for (const auto &[order, count] : counts) {
            const auto p = std::exp(plLogProb(scores, torch::tensor(order, torch::kLong).unsqueeze(0))[0].item<double>());
            const auto sd = std::sqrt(p * (1 - p) / double(n));
            QVERIFY2(std::abs(count / double(n) - p) < 5 * sd,
                     qPrintable(QString("order %1%2%3: %4 vs %5").arg(order[0]).arg(order[1]).arg(order[2]).arg(count / double(n)).arg(p)));
        }
        // Temperature 0.25 sharpens: item 0 first in (0.5^4 / (0.5^4 + 0.3^4 + 0.2^4)) of the draws.
        const auto sharp = plSample(scores, n, 0.25, gen);
        const double p0 = std::pow(0.5, 4) / (std::pow(0.5, 4) + std::pow(0.3, 4) + std::pow(0.2, 4));
        const auto f0 = (sharp.select(1, 0) == 0).to(torch::kDouble).mean().item<double>();
        QVERIFY(std::abs(f0 - p0) < 5 * std::sqrt(p0 * (1 - p0) / double(n)));
    }

    void dpoLossAndGradient()
    {
        // beta 0.5; chosen 2.0 (reference 1.5), rejected 1.0 (reference 1.2):
        // z = 0.5 ((2.0 - 1.5) - (1.0 - 1.2)) = 0.35, loss = log(1 + e^-0.35).
        auto c = torch::tensor({2.0}, torch::requires_grad()), r = torch::tensor({1.0}, torch::requires_grad());
        const auto d = dpoLoss(c, r, torch::tensor({1.5}), torch::tensor({1.2}), 0.5);
        QVERIFY(near(d.loss.item<double>(), std::log1p(std::exp(-0.35))));
        d.loss.backward();
        QVERIFY(near(c.grad()[0].item<double>(), -0.5 * sigmoid(-0.35)));
        QVERIFY(near(r.grad()[0].item<double>(), 0.5 * sigmoid(-0.35)));
        QVERIFY(near(d.chosenRewards[0].item<double>(), 0.25));
        QVERIFY(near(d.rejectedRewards[0].item<double>(), -0.1));
        // Label smoothing 0.1 (conservative DPO): 0.9 log(1 + e^-z) + 0.1 log(1 + e^z); the mean over pairs.
        const auto smooth = dpoLoss(torch::tensor({2.0, 0.0}), torch::tensor({1.0, 0.0}), torch::tensor({1.5, 0.0}),
                                    torch::tensor({1.2, 0.0}), 0.5, 0.1);
        const double first = 0.9 * std::log1p(std::exp(-0.35)) + 0.1 * std::log1p(std::exp(0.35));
        QVERIFY(near(smooth.loss.item<double>(), (first + std::log(2.0)) / 2));
    }

    void rankingRewardParts()
    {
        // Candidates 0..3 with grades 2, 0, 1, unjudged; preferences 0 > 1 and 3 > 2.
        const RankingTargets t{{{0, 1}, {3, 2}}, {2, 0, 1, -1}};
        QCOMPARE(rankingReward({0, 3, 1, 2}, t, 1, 1, 10).pairAgreement, 1.0);
        QCOMPARE(rankingReward({1, 0, 2, 3}, t, 1, 1, 10).pairAgreement, 0.0);
        // 2, 0, 3, 1: one preference kept; gains 1, 2, 0, 0 against the ideal 2, 1.
        const auto r = rankingReward({2, 0, 3, 1}, t, 1, 1, 10);
        QCOMPARE(r.pairAgreement, 0.5);
        const double ndcg = (1.0 + 2.0 / std::log2(3.0)) / (2.0 + 1.0 / std::log2(3.0));
        QVERIFY(near(r.ndcg, ndcg));
        QVERIFY(near(r.reward, (0.5 + ndcg) / 2));
        QVERIFY(near(rankingReward({2, 0, 3, 1}, t, 3, 1, 10).reward, (3 * 0.5 + ndcg) / 4));
        // Depth 1 counts the top item only: gain 1 of ideal 2.
        QVERIFY(near(rankingReward({2, 0, 3, 1}, t, 0, 1, 1).ndcg, 0.5));
        // Without preferences the reward is the nDCG alone; without positives, the agreement alone.
        QVERIFY(near(rankingReward({2, 0, 3, 1}, {{}, t.grades}, 1, 1, 10).reward, ndcg));
        QVERIFY(near(rankingReward({2, 0, 3, 1}, {t.preferences, {0, 0, 0, -1}}, 1, 1, 10).reward, 0.5));
    }

    void advantagesAreGroupRelative()
    {
        const auto a = groupAdvantages(torch::tensor({1.0, 2.0, 3.0}), true); // unbiased std 1
        QVERIFY(torch::allclose(a, torch::tensor({-1.0, 0.0, 1.0}) / (1.0 + 1e-4)));
        QVERIFY(torch::allclose(groupAdvantages(torch::tensor({1.0, 2.0, 3.0}), false), torch::tensor({-1.0, 0.0, 1.0})));
        QCOMPARE(groupAdvantages(torch::tensor({0.5, 0.5}), true).abs().sum().item<double>(), 0.0); // no signal
    }

    void grpoSurrogate()
    {
        // On-policy and at the reference: the loss is -mean(A) = 0 and d/d logp[i, t] = -A_i / (G k).
        const auto adv = torch::tensor({1.0, -1.0});
        auto lp = torch::full({2, 3}, -0.7, torch::requires_grad());
        const auto onPolicy = grpoLoss(lp, lp.detach(), lp.detach(), adv, 0.2, 0.04);
        QVERIFY(near(onPolicy.loss.item<double>(), 0.0));
        QCOMPARE(onPolicy.kl, 0.0);
        onPolicy.loss.backward();
        QVERIFY(torch::allclose(lp.grad(), torch::tensor({-1.0, 1.0}).unsqueeze(1).expand({2, 3}) / 6.0));

        // Ratio 1.5 (log 1.5 above the sampling policy), epsilon 0.2: for A > 0 the clipped term 1.2 A is
        // the minimum and carries no gradient; for A < 0 the unclipped 1.5 A is and does.
        auto up = torch::full({2, 1}, std::log(1.5), torch::requires_grad());
        const auto clipped = grpoLoss(up, torch::zeros({2, 1}), up.detach(), adv, 0.2, 0.0);
        QVERIFY(near(clipped.loss.item<double>(), -(1.2 * 1.0 + 1.5 * -1.0) / 2));
        QCOMPARE(clipped.clippedShare, 0.5);
        clipped.loss.backward();
        QCOMPARE(up.grad()[0][0].item<double>(), 0.0);
        QVERIFY(near(up.grad()[1][0].item<double>(), 1.5 / 2)); // -d(1.5... ) : -(ratio * A) / 2 with A = -1

        // KL term: reference delta = ref - logp = 0.3 gives k3 = e^0.3 - 0.3 - 1, weighted by beta.
        auto p = torch::zeros({1, 1}, torch::requires_grad());
        const auto withKl = grpoLoss(p, p.detach(), torch::full({1, 1}, 0.3), torch::tensor({0.0}), 0.2, 0.5);
        const double k3 = std::exp(0.3) - 0.3 - 1.0;
        QVERIFY(near(withKl.kl, k3));
        QVERIFY(near(withKl.loss.item<double>(), 0.5 * k3));
        withKl.loss.backward();
        QVERIFY(near(p.grad()[0][0].item<double>(), 0.5 * (1.0 - std::exp(0.3)))); // d k3 / d logp = 1 - e^delta
    }

    void sampledKlMatchesTheExactOne()
    {
        // Two items: rankings are Bernoulli(sigmoid(s0 - s1)); KL has a closed form.
        auto gen = at::make_generator<at::CPUGeneratorImpl>(99);
        const auto s = torch::tensor({1.0, 0.0}), ref = torch::tensor({0.0, 0.5});
        const double p = sigmoid(1.0), q = sigmoid(-0.5);
        const double exact = p * std::log(p / q) + (1 - p) * std::log((1 - p) / (1 - q));
        const auto estimate = plKl(s, ref, 200000, gen);
        QVERIFY2(std::abs(estimate - exact) < 0.02 * exact, qPrintable(QString("%1 vs %2").arg(estimate).arg(exact)));
        QCOMPARE(plKl(s, s, 1000, gen), 0.0);
    }
};

QTEST_GUILESS_MAIN(TestAlignmentObjective)
#include "test_alignment_objective.moc"
