// SPDX-License-Identifier: GPL-3.0-or-later
// Widened half-precision products (gemm.h): measuring the path draws no random numbers; forward and gradients equal float32 products of the same
// bf16 operands rounded once to bf16, across weight and input blocks and leading dimensions; a bias
// and its gradient are applied; float32 always takes libtorch's own kernel; a bf16 LoRA layer trains
// its float32 adapter through the widened path.
#include "core/model/gemm.h"
#include "core/model/lora_linear.h"

#include <QTest>

using namespace unirank::model;

namespace {

torch::Tensor bf16Randn(std::vector<std::int64_t> shape, double scale = 1.0)
{
    return (torch::randn(shape) * scale).to(torch::kBFloat16);
}

/// Largest ratio of |got - want| to what rounding allows: got is a float32 dot product of length n
/// (summed in an order we do not control) rounded once to bf16; want is the float32 product. Two
/// summation orders differ by at most 2 n u sum|a_i b_i| (Higham's bound, u = 2^-24), and rounding to
/// bf16 (8 significant bits) moves a value by at most 2^-8 of itself. `magnitude` is sum|a_i b_i| per element.
double overBound(const torch::Tensor &got, const torch::Tensor &want, const torch::Tensor &magnitude, std::int64_t n)
{
    const auto g = got.to(torch::kFloat32), w = want.to(torch::kFloat32);
    const auto bound = w.abs() * std::ldexp(1.0, -8) * (1 + 1e-3) +
                       magnitude.to(torch::kFloat32) * (2.0 * static_cast<double>(n) * std::ldexp(1.0, -24)) + 1e-30;
    return ((g - w).abs() / bound).max().item<double>();
}

torch::Tensor f32(const torch::Tensor &t)
{
    return t.detach().to(torch::kFloat32);
}

} // namespace

class TestGemm : public QObject {
    Q_OBJECT
private slots:
    void probeLeavesTheGeneratorAlone()
    {
        // The path is measured inside the first forward that needs it; drawing random numbers there
        // would shift every later dropout mask and initialisation. fp16 is not probed before this.
        torch::manual_seed(11);
        const auto expected = torch::rand({4});
        torch::manual_seed(11);
        gemm::cpuPath(torch::kHalf);
        QVERIFY(torch::equal(torch::rand({4}), expected));
    }

    void widenedForwardEqualsFloat32RoundedOnce()
    {
        torch::manual_seed(3);
        torch::NoGradGuard noGrad;
        // in = 16384: 512 rows per 32 MiB float32 block, so 1100 weight rows are 3 blocks and
        // 600 input rows 2.
        const std::int64_t in = 16384;
        QCOMPARE(gemm::kWidenBlockBytes / (4 * in), std::int64_t(512));
        const auto x = bf16Randn({600, in}, 0.1), w = bf16Randn({1100, in}, 0.1), b = bf16Randn({1100});
        const auto want = torch::addmm(f32(b), f32(x), f32(w).t());
        const auto got = gemm::linearWidened(x, w, b);
        QCOMPARE(got.scalar_type(), torch::kBFloat16);
        QCOMPARE(got.sizes().vec(), std::vector<std::int64_t>({600, 1100}));
        const auto magnitude = torch::addmm(f32(b).abs(), f32(x).abs(), f32(w).abs().t());
        const double ratio = overBound(got, want, magnitude, in + 1);
        qInfo("widened linear: %.3f of the rounding bound", ratio);
        QVERIFY2(ratio <= 1.0, "beyond float32 summation and one bf16 rounding");
        // Without a bias, with leading dimensions.
        const auto x3 = bf16Randn({2, 3, 64}), w3 = bf16Randn({40, 64});
        const auto got3 = gemm::linearWidened(x3, w3);
        QCOMPARE(got3.sizes().vec(), std::vector<std::int64_t>({2, 3, 40}));
        QVERIFY(overBound(got3, torch::matmul(f32(x3), f32(w3).t()), torch::matmul(f32(x3).abs(), f32(w3).abs().t()), 64) <= 1.0);
        // matmul
        const auto a = bf16Randn({4, 8, 32}), m = bf16Randn({4, 32, 16});
        QVERIFY(overBound(gemm::matmulWidened(a, m), torch::matmul(f32(a), f32(m)), torch::matmul(f32(a).abs(), f32(m).abs()), 32) <= 1.0);
    }

    void widenedGradientsEqualFloat32()
    {
        torch::manual_seed(4);
        const std::int64_t in = 16384;
        const auto x = bf16Randn({40, in}, 0.1).requires_grad_(), w = bf16Randn({1100, in}, 0.1).requires_grad_();
        const auto b = bf16Randn({1100}).requires_grad_();
        const auto gy = bf16Randn({40, 1100});
        gemm::linearWidened(x, w, b).backward(gy);
        const auto g32 = f32(gy);
        QCOMPARE(x.grad().scalar_type(), torch::kBFloat16);
        QCOMPARE(w.grad().scalar_type(), torch::kBFloat16);
        QVERIFY(overBound(x.grad(), torch::mm(g32, f32(w)), torch::mm(g32.abs(), f32(w).abs()), 1100) <= 1.0);
        QVERIFY(overBound(w.grad(), torch::mm(g32.t(), f32(x)), torch::mm(g32.abs().t(), f32(x).abs()), 40) <= 1.0);
        QVERIFY(overBound(b.grad(), g32.sum(0), g32.abs().sum(0), 40) <= 1.0);
        // A frozen weight gets no gradient, and no bias is fine.
        const auto x2 = bf16Randn({5, 64}).requires_grad_();
        const auto w2 = bf16Randn({7, 64});
        gemm::linearWidened(x2, w2).sum().backward();
        QVERIFY(x2.grad().defined());
        QVERIFY(!w2.grad().defined());
    }

    void float32TakesLibtorchsKernel()
    {
        torch::manual_seed(5);
        QCOMPARE(gemm::cpuPath(torch::kFloat32), gemm::HalfPath::Native);
        const auto x = torch::randn({9, 33}), w = torch::randn({17, 33}), b = torch::randn({17});
        QVERIFY(torch::equal(gemm::linear(x, w, b), torch::linear(x, w, b)));
        QVERIFY(torch::equal(gemm::operand(x), x));
        // bf16 takes whichever path the probe chose, and the result is the product either way.
        const auto path = gemm::cpuPath(torch::kBFloat16);
        qInfo("bf16 products on this CPU: %s", gemm::pathName(path));
        const auto xb = x.to(torch::kBFloat16), wb = w.to(torch::kBFloat16);
        QCOMPARE(gemm::operand(xb).scalar_type(), path == gemm::HalfPath::Widen ? torch::kFloat32 : torch::kBFloat16);
        QVERIFY(overBound(gemm::linear(xb, wb), torch::mm(f32(xb), f32(wb).t()), torch::mm(f32(xb).abs(), f32(wb).abs().t()), 33) <= 1.0);
    }

    void bf16LoraTrainsItsFloat32Adapter()
    {
        torch::manual_seed(6);
        LoraLinear layer(64, 48, true);
        layer->to(torch::kBFloat16);
        layer->weight().set_requires_grad(false);
        layer->bias().set_requires_grad(false);
        layer->addAdapter(LoraSettings{4, 8, 0, false});
        QCOMPARE(layer->loraA()->weight.scalar_type(), torch::kFloat32);
        {
            torch::NoGradGuard noGrad;
            layer->loraB()->weight.normal_(0, 0.1);
        }
        const auto x = bf16Randn({3, 64});
        layer->forward(x).to(torch::kFloat32).pow(2).sum().backward();
        QVERIFY(layer->loraA()->weight.grad().defined());
        QVERIFY(layer->loraB()->weight.grad().abs().sum().item<double>() > 0);
        QVERIFY(!layer->weight().grad().defined());
    }
};

QTEST_GUILESS_MAIN(TestGemm)
#include "test_gemm.moc"
