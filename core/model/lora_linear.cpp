// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/model/lora_linear.h"

#include "core/model/gemm.h"
#include "core/model/int8_linear.h"
#include "core/model/param_init.h"

#include <cmath>

namespace unirank::model {

double LoraSettings::scale() const
{
    return rslora ? alpha / std::sqrt(static_cast<double>(rank)) : alpha / static_cast<double>(rank);
}

LoraLinearImpl::LoraLinearImpl(std::int64_t in, std::int64_t out, bool bias)
{
    // The same initialisation as torch::nn::Linear, unless the loader is about to replace it.
    m_weight = register_parameter("weight", torch::empty({out, in}));
    if (bias)
        m_bias = register_parameter("bias", torch::empty({out}));
    if (SkipParameterInit::active())
        return;
    torch::nn::init::kaiming_uniform_(m_weight, std::sqrt(5.0));
    if (bias) {
        const double bound = 1.0 / std::sqrt(static_cast<double>(in));
        torch::NoGradGuard noGrad;
        m_bias.uniform_(-bound, bound);
    }
}

torch::Tensor LoraLinearImpl::forward(const torch::Tensor &x)
{
    auto y = m_int8 ? linearInt8(x, *m_int8) : gemm::linear(x, m_weight, m_bias);
    if (!hasAdapter())
        return y;
    auto h = x.to(m_loraA->weight.scalar_type());
    if (m_settings.dropout > 0 && is_training())
        h = torch::dropout(h, m_settings.dropout, true);
    return y + (m_loraB(m_loraA(h)) * m_settings.scale()).to(y.scalar_type());
}

void LoraLinearImpl::addAdapter(const LoraSettings &settings)
{
    removeAdapter();
    m_settings = settings;
    const auto in = m_weight.size(1), out = m_weight.size(0);
    // Over a bf16/fp16 base the adapter stays float32 (as PEFT keeps it), and so does its optimizer
    // state: an update far below the base weight's bf16 resolution is not rounded away.
    const auto type = c10::elementSize(m_weight.scalar_type()) < 4 ? torch::kFloat32 : m_weight.scalar_type();
    const auto options = torch::TensorOptions().dtype(type).device(m_weight.device());
    m_loraA = register_module("lora_A", torch::nn::Linear(torch::nn::LinearOptions(in, settings.rank).bias(false)));
    m_loraB = register_module("lora_B", torch::nn::Linear(torch::nn::LinearOptions(settings.rank, out).bias(false)));
    m_loraA->to(options.device(), options.dtype().toScalarType());
    m_loraB->to(options.device(), options.dtype().toScalarType());
    torch::NoGradGuard noGrad;
    torch::nn::init::kaiming_uniform_(m_loraA->weight, std::sqrt(5.0));
    m_loraB->weight.zero_();
}

void LoraLinearImpl::removeAdapter()
{
    if (!hasAdapter())
        return;
    unregister_module("lora_A");
    unregister_module("lora_B");
    m_loraA = torch::nn::Linear(nullptr);
    m_loraB = torch::nn::Linear(nullptr);
}

void LoraLinearImpl::mergeAdapter()
{
    if (!hasAdapter())
        return;
    torch::NoGradGuard noGrad;
    const auto delta = torch::matmul(m_loraB->weight.to(torch::kFloat32), m_loraA->weight.to(torch::kFloat32)) *
                       m_settings.scale();
    m_weight.copy_((m_weight.to(torch::kFloat32) + delta).to(m_weight.scalar_type()));
    removeAdapter();
}

} // namespace unirank::model
