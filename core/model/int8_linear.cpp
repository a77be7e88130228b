// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/model/int8_linear.h"

#include "core/model/lora_linear.h"
#include "core/util/error.h"

#include <ATen/core/dispatch/Dispatcher.h>

namespace unirank::model {
namespace {

c10::OperatorHandle op(const char *name)
{
    return c10::Dispatcher::singleton().findSchemaOrThrow(name, "");
}

} // namespace

std::string int8Engine()
{
    const auto engines = at::globalContext().supportedQEngines();
    const auto has = [&](at::QEngine e) { return std::find(engines.begin(), engines.end(), e) != engines.end(); };
    if (has(at::QEngine::ONEDNN))
        return "onednn";
    if (has(at::QEngine::QNNPACK))
        return "qnnpack";
    return {};
}

Int8Packed packInt8(const torch::Tensor &weight, const torch::Tensor &bias)
{
    torch::NoGradGuard noGrad;
    const auto w = weight.detach().to(torch::kFloat32).contiguous();
    const auto scales = (w.abs().amax(1) / 127.0).clamp_min(1e-12).to(torch::kDouble);
    const auto q = at::quantize_per_channel(w, scales, torch::zeros({w.size(0)}, torch::kLong), 0, torch::kQInt8);
    torch::jit::Stack stack{q, bias.defined()
                                   ? c10::optional<at::Tensor>(bias.detach().to(torch::kFloat32).contiguous())
                                   : c10::optional<at::Tensor>()};
    op("quantized::linear_prepack").callBoxed(stack);
    return {stack.at(0), w.size(1), w.size(0)};
}

torch::Tensor linearInt8(const torch::Tensor &x, const Int8Packed &packed)
{
    auto shape = x.sizes().vec();
    shape.back() = packed.out;
    torch::jit::Stack stack{x.reshape({-1, packed.in}).to(torch::kFloat32).contiguous(), packed.packed, true};
    op("quantized::linear_dynamic").callBoxed(stack);
    return stack.at(0).toTensor().view(shape).to(x.scalar_type());
}

std::size_t quantizeLanguageModelInt8(Qwen2VL &model)
{
    const auto engine = int8Engine();
    if (engine.empty())
        throw InputError("int8: this libtorch has no quantized engine (oneDNN or QNNPACK)");
    at::globalContext().setQEngine(engine == "onednn" ? at::QEngine::ONEDNN : at::QEngine::QNNPACK);
    std::size_t n = 0;
    for (const auto &item : model->named_modules("", false)) {
        auto *layer = dynamic_cast<LoraLinearImpl *>(item.value().get());
        if (!layer || item.key().rfind("model.", 0) != 0) // the language model's layers only
            continue;
        if (!layer->weight().device().is_cpu() || layer->weight().scalar_type() != torch::kFloat32)
            throw InputError("int8: the model must be float32 on the CPU");
        layer->setInt8(std::make_shared<const Int8Packed>(packInt8(layer->weight(), layer->bias())));
        ++n;
    }
    return n;
}

} // namespace unirank::model
