// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/model/activation_checkpoint.h"

#include "core/model/autocast.h"

#include <ATen/core/Generator.h>

#include <mutex>

namespace unirank::model {
namespace {

/// What the backward needs besides x; rides in the autograd context as a capsule.
struct Recompute : torch::CustomClassHolder {
    CheckpointBody body;
    c10::Device device{c10::kCPU};
    AutocastState autocast;
    torch::Tensor rngState;
};

at::Generator generatorOf(c10::Device device)
{
    return at::globalContext().defaultGenerator(device);
}

torch::Tensor rngStateOf(c10::Device device)
{
    auto gen = generatorOf(device);
    std::lock_guard lock(gen.mutex());
    return gen.get_state();
}

void setRngState(c10::Device device, const torch::Tensor &state)
{
    auto gen = generatorOf(device);
    std::lock_guard lock(gen.mutex());
    gen.set_state(state);
}

/// Sets the saved generator state and puts the current one back on exit.
class RngFork {
public:
    RngFork(c10::Device device, const torch::Tensor &state) : m_device(device), m_current(rngStateOf(device))
    {
        setRngState(m_device, state);
    }
    ~RngFork() { setRngState(m_device, m_current); }
    RngFork(const RngFork &) = delete;
    RngFork &operator=(const RngFork &) = delete;

private:
    c10::Device m_device;
    torch::Tensor m_current;
};

struct CheckpointFunction : torch::autograd::Function<CheckpointFunction> {
    static torch::Tensor forward(torch::autograd::AutogradContext *ctx, const torch::Tensor &x,
                                 const c10::intrusive_ptr<Recompute> &recompute)
    {
        // Grad mode is off here (Function::apply), so body keeps no graph.
        recompute->rngState = rngStateOf(recompute->device);
        recompute->autocast = autocastState(recompute->device.type());
        auto out = recompute->body(x);
        ctx->save_for_backward({x});
        ctx->saved_data["recompute"] = c10::IValue::make_capsule(recompute);
        return out;
    }

    static torch::autograd::variable_list backward(torch::autograd::AutogradContext *ctx,
                                                   torch::autograd::variable_list gradOutputs)
    {
        const auto saved = ctx->get_saved_variables();
        const auto recompute = c10::static_intrusive_pointer_cast<Recompute>(ctx->saved_data["recompute"].toCapsule());
        auto input = saved[0].detach().requires_grad_(true);
        torch::Tensor out;
        {
            torch::AutoGradMode grad(true);
            AutocastScope autocast(recompute->device.type(), recompute->autocast);
            RngFork rng(recompute->device, recompute->rngState);
            out = recompute->body(input);
        }
        torch::autograd::backward({out}, {gradOutputs[0]});
        return {input.grad(), torch::Tensor()};
    }
};

} // namespace

torch::Tensor checkpoint(CheckpointBody body, const torch::Tensor &x)
{
    if (!torch::GradMode::is_enabled())
        return body(x);
    auto recompute = c10::make_intrusive<Recompute>();
    recompute->body = std::move(body);
    recompute->device = x.device();
    // The output needs a grad_fn even when x is a frozen embedding (LoRA): gradients must still reach
    // the parameters inside body. A detached x that asks for gradients gives it one (Hugging Face's
    // enable_input_require_grads, done locally).
    const auto input = x.requires_grad() ? x : x.detach().requires_grad_(true);
    return CheckpointFunction::apply(input, recompute);
}

} // namespace unirank::model
