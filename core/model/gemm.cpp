// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/model/gemm.h"

#include "core/model/autocast.h"

#include <algorithm>
#include <chrono>

namespace unirank::model::gemm {
namespace {

using torch::autograd::AutogradContext;
using torch::autograd::variable_list;

std::int64_t blockRows(std::int64_t columns)
{
    return std::max<std::int64_t>(1, kWidenBlockBytes / (4 * std::max<std::int64_t>(1, columns)));
}

torch::Tensor widen(const torch::Tensor &t)
{
    return t.to(torch::kFloat32);
}

/// `w` widened into this thread's scratch buffer (at most kWidenBlockBytes, kept for the thread's
/// life): a fresh 32 MiB allocation per block costs more in page faults than the product itself.
/// The result is valid until the thread's next call.
torch::Tensor widenWeightBlock(const torch::Tensor &w)
{
    thread_local torch::Tensor buffer;
    const auto need = w.numel();
    if (!buffer.defined() || buffer.numel() < need)
        buffer = torch::empty({need}, torch::kFloat32);
    auto block = buffer.narrow(0, 0, need).view(w.sizes());
    block.copy_(w);
    return block;
}

/// y = x W^T + b for 2-D x, in float32 blocks: weight rows outer (each widened once), input rows inner.
torch::Tensor widenedForward(const torch::Tensor &x, const torch::Tensor &w, const torch::Tensor &b)
{
    const auto m = x.size(0), in = x.size(1), out = w.size(0);
    auto y = torch::empty({m, out}, x.options());
    const auto xRows = blockRows(in);
    const auto x32 = m <= xRows ? widen(x) : torch::Tensor();
    const auto wRows = blockRows(in);
    for (std::int64_t c = 0; c < out; c += wRows) {
        const auto nc = std::min(wRows, out - c);
        const auto w32 = widenWeightBlock(w.narrow(0, c, nc)).t();
        const auto b32 = b.defined() ? widen(b.narrow(0, c, nc)) : torch::Tensor();
        for (std::int64_t r = 0; r < m; r += xRows) {
            const auto nr = std::min(xRows, m - r);
            const auto xs = x32.defined() ? x32 : widen(x.narrow(0, r, nr));
            y.narrow(0, r, nr).narrow(1, c, nc).copy_(b32.defined() ? torch::addmm(b32, xs, w32) : torch::mm(xs, w32));
        }
    }
    return y;
}

struct WidenedLinear : torch::autograd::Function<WidenedLinear> {
    static torch::Tensor forward(AutogradContext *ctx, const torch::Tensor &x, const torch::Tensor &w,
                                 const torch::Tensor &b)
    {
        // No bias comes as an empty tensor: autograd functions take no undefined inputs.
        const bool hasBias = b.numel() > 0;
        ctx->save_for_backward({x, w});
        ctx->saved_data["bias"] = hasBias;
        ctx->saved_data["bias_type"] = static_cast<std::int64_t>(b.scalar_type());
        return widenedForward(x, w, hasBias ? b : torch::Tensor());
    }

    static variable_list backward(AutogradContext *ctx, variable_list grads)
    {
        const auto saved = ctx->get_saved_variables();
        const auto &x = saved[0], &w = saved[1];
        const auto gy = grads[0];
        const auto out = w.size(0), in = w.size(1);
        const auto wRows = blockRows(std::max(in, gy.size(0)));
        torch::Tensor gx, gw, gb;
        torch::Tensor gx32, x32;
        if (ctx->needs_input_grad(0))
            gx32 = torch::zeros({gy.size(0), in}, gy.options().dtype(torch::kFloat32));
        if (ctx->needs_input_grad(1)) {
            gw = torch::empty_like(w);
            x32 = widen(x);
        }
        for (std::int64_t c = 0; c < out; c += wRows) {
            const auto nc = std::min(wRows, out - c);
            const auto gy32 = widen(gy.narrow(1, c, nc));
            if (gx32.defined())
                gx32.addmm_(gy32, widenWeightBlock(w.narrow(0, c, nc)));
            if (gw.defined())
                gw.narrow(0, c, nc).copy_(torch::mm(gy32.t(), x32));
        }
        if (gx32.defined())
            gx = gx32.to(x.scalar_type());
        if (ctx->saved_data["bias"].toBool() && ctx->needs_input_grad(2))
            gb = widen(gy).sum(0).to(static_cast<torch::ScalarType>(ctx->saved_data["bias_type"].toInt()));
        return {gx, gw, gb};
    }
};

double secondsOf(const std::function<void()> &work)
{
    double best = 1e30;
    for (int i = 0; i < 3; ++i) {
        const auto start = std::chrono::steady_clock::now();
        work();
        best = std::min(best, std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count());
    }
    return best;
}

HalfPath probe(torch::ScalarType type)
{
    // Runs inside whatever first needs it: it must not draw from the global generator (that would
    // move every later random number: dropout masks, adapter initialisation) nor see autocast.
    torch::NoGradGuard noGrad;
    AutocastScope plain(c10::DeviceType::CPU, {});
    const auto options = torch::TensorOptions().dtype(type);
    const auto x = torch::linspace(-1, 1, 256 * 512, options).view({256, 512});
    const auto w = torch::linspace(1, -1, 512 * 512, options).view({512, 512});
    double native = 0;
    try {
        native = secondsOf([&] { torch::linear(x, w); });
    } catch (const c10::Error &) { // no kernel at all (fp16 on libtorch 1.13's CPU)
        return HalfPath::Widen;
    }
    const double widened = secondsOf([&] { linearWidened(x, w); });
    return widened < native ? HalfPath::Widen : HalfPath::Native;
}

bool widenHere(const torch::Tensor &t)
{
    return t.device().is_cpu() && cpuPath(t.scalar_type()) == HalfPath::Widen;
}

} // namespace

HalfPath cpuPath(torch::ScalarType type)
{
    if (type == torch::kBFloat16) {
        static const HalfPath path = probe(type);
        return path;
    }
    if (type == torch::kHalf) {
        static const HalfPath path = probe(type);
        return path;
    }
    return HalfPath::Native;
}

const char *pathName(HalfPath path)
{
    return path == HalfPath::Widen ? "widened to float32" : "native";
}

torch::Tensor linearWidened(const torch::Tensor &x, const torch::Tensor &weight, const torch::Tensor &bias)
{
    const auto in = weight.size(1);
    const auto flat = x.reshape({-1, in});
    auto shape = x.sizes().vec();
    shape.back() = weight.size(0);
    const auto b = bias.defined() ? bias : torch::empty({0}, weight.options());
    return WidenedLinear::apply(flat, weight, b).view(shape);
}

torch::Tensor matmulWidened(const torch::Tensor &a, const torch::Tensor &b)
{
    return torch::matmul(widen(a), widen(b)).to(a.scalar_type());
}

torch::Tensor operand(const torch::Tensor &t)
{
    return widenHere(t) ? widen(t) : t;
}

torch::Tensor linear(const torch::Tensor &x, const torch::Tensor &weight, const torch::Tensor &bias)
{
    if (widenHere(weight) && x.scalar_type() == weight.scalar_type())
        return linearWidened(x, weight, bias);
    return torch::linear(x, weight, bias);
}

torch::Tensor matmul(const torch::Tensor &a, const torch::Tensor &b)
{
    if (widenHere(a) && a.scalar_type() == b.scalar_type())
        return matmulWidened(a, b);
    return torch::matmul(a, b);
}

} // namespace unirank::model::gemm
