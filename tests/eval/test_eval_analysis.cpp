// SPDX-License-Identifier: GPL-3.0-or-later
// Modality split and bias, preference agreement, Krippendorff's alpha, calibration and temperature
// fitting, and the significance tests (known difference rejected, identical runs not, fixed seeds
// reproducible).
#include "core/eval/analysis.h"
#include "core/eval/calibration.h"
#include "core/eval/significance.h"
#include "core/util/error.h"
#include "test_support.h"

#include <QTemporaryDir>
#include <QTest>

#include <random>

using namespace unirank;
using namespace unirank::eval;

class TestEvalAnalysis : public QObject {
    Q_OBJECT

private slots:
    void modalitySplitAndBias()
    {
        // q: relevant t1 (text) and i1 (image); the run puts two texts first.
        const Qrels qrels{{"q", {{"t1", 1}, {"t2", 0}, {"i1", 1}, {"i2", 0}}}};
        const Run run{{"q", {{"t1", 0.9}, {"t2", 0.8}, {"i1", 0.7}, {"i2", 0.1}}}};
        const Modalities m{{"t1", Modality::Text}, {"t2", Modality::Text}, {"i1", Modality::Image}, {"i2", Modality::Image}};
        EvalOptions o;
        o.metrics = {"P_1", "recip_rank"};
        const auto split = evaluateByModality(qrels, run, m, o);
        QCOMPARE(split.at(Modality::Text).value("P_1"), 1.0);
        QCOMPARE(split.at(Modality::Image).value("recip_rank"), 1.0); // i1 is first among images
        QVERIFY(!split.contains(Modality::TextImage));
        const auto bias = modalityBias(qrels, run, m, 2);
        QCOMPARE(bias.imageShareTopK, 0.0);
        QCOMPARE(bias.imageShareRelevant, 0.5);
        QCOMPARE(bias.bias, -0.5); // text-biased
        QCOMPARE(modalityBias(qrels, run, m, 4).bias, 0.0);
    }

    void preferences()
    {
        const Run run{{"q", {{"a", 3}, {"b", 2}, {"c", 2}}}};
        const std::vector<PairJudgement> pairs{
            {"q", "a", "b", PairOutcome::Left, "ann1"},  // agrees
            {"q", "b", "a", PairOutcome::Left, "ann1"},  // disagrees
            {"q", "b", "c", PairOutcome::Left, "ann1"},  // the run ties
            {"q", "a", "x", PairOutcome::Left, "ann1"},  // not in the run
            {"q", "a", "c", PairOutcome::Tie, "ann1"},   // excluded
            {"q", "c", "a", PairOutcome::Right, "ann2"}, // agrees (a preferred)
        };
        const auto a = preferenceAgreement(pairs, run);
        QCOMPARE(a.agreed, std::size_t(2));
        QCOMPARE(a.disagreed, std::size_t(1));
        QCOMPARE(a.runTies, std::size_t(1));
        QCOMPARE(a.notInRun, std::size_t(1));
        QCOMPARE(a.excludedTies, std::size_t(1));
        QCOMPARE(a.overall(), 2.0 / 3);
        QCOMPARE(a.perQuery.at("q"), 2.0 / 3);
    }

    void krippendorff()
    {
        // Perfect agreement across two annotators on three pairs, one stored flipped.
        std::vector<PairJudgement> same{{"q", "a", "b", PairOutcome::Left, "x"}, {"q", "b", "a", PairOutcome::Right, "y"},
                                        {"q", "a", "c", PairOutcome::Right, "x"}, {"q", "a", "c", PairOutcome::Right, "y"},
                                        {"q", "b", "c", PairOutcome::Tie, "x"},   {"q", "b", "c", PairOutcome::Tie, "y"}};
        const auto perfect = krippendorffAlpha(same);
        QCOMPARE(perfect.units, std::size_t(3));
        QVERIFY(perfect.alpha && std::abs(*perfect.alpha - 1.0) < 1e-12);
        // Hand-computed: 4 units x 2 coders, values (L,L) (L,R) (R,R) (R,L): o_LL = 2, o_RR = 2, o_LR = o_RL = 2,
        // n = 8, n_L = n_R = 4: D_o = 4, D_e = (4*4 + 4*4) / 7 = 32/7, alpha = 1 - 4 * 7 / 32 = 0.125.
        std::vector<PairJudgement> mixed{{"q", "a", "b", PairOutcome::Left, "x"},  {"q", "a", "b", PairOutcome::Left, "y"},
                                         {"q", "a", "c", PairOutcome::Left, "x"},  {"q", "a", "c", PairOutcome::Right, "y"},
                                         {"q", "a", "d", PairOutcome::Right, "x"}, {"q", "a", "d", PairOutcome::Right, "y"},
                                         {"q", "a", "e", PairOutcome::Right, "x"}, {"q", "a", "e", PairOutcome::Left, "y"}};
        const auto m = krippendorffAlpha(mixed);
        QVERIFY(m.alpha && std::abs(*m.alpha - 0.125) < 1e-12);
        QVERIFY(!krippendorffAlpha({{"q", "a", "b", PairOutcome::Left, "x"}}).alpha); // nobody to agree with
    }

    void prefsFile()
    {
        QTemporaryDir tmp;
        const std::filesystem::path f = tmp.path().toStdString() + "/prefs";
        test::writeText(f, "q1 ann1 p1 a 2\nq1 ann1 p1 b 1\nq1 ann2 p2 c 0\nq1 ann2 p2 d 0\n");
        const auto pairs = readTrecPrefs(f);
        QCOMPARE(pairs.size(), std::size_t(2));
        QVERIFY(pairs[0].left == "a" && pairs[0].outcome == PairOutcome::Left && pairs[0].annotator == "ann1");
        QVERIFY(pairs[1].outcome == PairOutcome::BothIrrelevant);
        test::writeText(f, "q1 ann1 p1 a\n");
        try {
            readTrecPrefs(f);
            QFAIL("accepted");
        } catch (const InputError &e) {
            QVERIFY2(QString(e.what()).contains("prefs:1"), e.what());
        }
    }

    void calibrationAndTemperature()
    {
        // Labels drawn from sigmoid(m / 2): the fitted temperature comes back near 2 and lowers the ECE.
        std::mt19937_64 rng(5);
        std::normal_distribution<double> margin(0, 4);
        std::uniform_real_distribution<double> u(0, 1);
        std::vector<double> fitM, fitP, testM;
        std::vector<int> fitY, testY;
        for (int i = 0; i < 20000; ++i) {
            const double m = margin(rng);
            const int y = u(rng) < 1 / (1 + std::exp(-m / 2)) ? 1 : 0;
            (i % 2 ? fitM : testM).push_back(m);
            (i % 2 ? fitY : testY).push_back(y);
        }
        const double t = fitTemperature(fitM, fitY);
        QVERIFY2(std::abs(t - 2) < 0.15, qPrintable(QString::number(t)));
        const auto raw = calibration(applyTemperature(testM, 1.0), testY);
        const auto fitted = calibration(applyTemperature(testM, t), testY);
        QVERIFY(fitted.ece < raw.ece);
        QVERIFY(fitted.ece < 0.02);
        QCOMPARE(fitted.bins.size(), std::size_t(10));
        std::size_t total = 0;
        for (const auto &b : fitted.bins)
            total += b.count;
        QCOMPARE(total, testM.size());
        // Hand-checked ECE: two bins, p = 0.25 (label 0) and 0.85 (label 1) -> (0.25 + 0.15) / 2.
        QVERIFY(std::abs(calibration({0.25, 0.85}, {0, 1}, 2).ece - 0.2) < 1e-12);
        QVERIFY_THROWS_EXCEPTION(InputError, calibration({0.5}, {}, 10));
    }

    void significance()
    {
        std::mt19937_64 rng(11);
        std::normal_distribution<double> noise(0, 0.1);
        std::vector<double> a(50), better(50);
        for (std::size_t i = 0; i < a.size(); ++i) {
            a[i] = 0.5 + noise(rng);
            better[i] = a[i] + 0.05 + noise(rng) * 0.2;
        }
        const auto diff = comparePaired(a, better);
        QVERIFY(diff.pValue < 0.01);
        QVERIFY(diff.ciLower > 0 && diff.ciUpper > diff.ciLower);
        const auto same = comparePaired(a, a);
        QCOMPARE(same.pValue, 1.0);
        QCOMPARE(same.meanDifference, 0.0);
        // Reproducible with a fixed seed, different with another.
        std::vector<double> close(a);
        for (auto &x : close)
            x += noise(rng) * 0.3;
        const auto seven = comparePaired(a, close, 7), again = comparePaired(a, close, 7), eight = comparePaired(a, close, 8);
        QCOMPARE(seven.pValue, again.pValue);
        QCOMPARE(seven.ciLower, again.ciLower);
        QVERIFY2(seven.pValue > 0.02 && seven.pValue < 0.98, std::to_string(seven.pValue).c_str()); // not decided by every draw
        QVERIFY(eight.pValue != seven.pValue);   // the permutations are the seed's
        QVERIFY(eight.ciLower != seven.ciLower); // and so are the bootstrap resamples
        QVERIFY(std::abs(eight.pValue - seven.pValue) < 0.1); // but estimate the same p
        // Holm: sorted 0.01, 0.02, 0.04 -> 0.03, 0.04, 0.04 (monotone), in input order.
        const auto h = holm({0.04, 0.01, 0.02});
        QVERIFY(std::abs(h[0] - 0.04) < 1e-12 && std::abs(h[1] - 0.03) < 1e-12 && std::abs(h[2] - 0.04) < 1e-12);
        QVERIFY_THROWS_EXCEPTION(InputError, comparePaired({1, 2}, {1}));
    }
};

QTEST_GUILESS_MAIN(TestEvalAnalysis)
#include "test_eval_analysis.moc"
