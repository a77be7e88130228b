// SPDX-License-Identifier: GPL-3.0-or-later
// A Linear layer that can carry a trainable LoRA adapter: y = x W^T + b + scale * B(A(dropout(x))).
// The base parameters are named as torch::nn::Linear's ("weight", "bias"), so checkpoints load by
// name; the adapter's submodules are named as PEFT's ("lora_A", "lora_B"), so the model's
// named_parameters() under "base_model.model." are exactly the tensor names of a PEFT
// adapter_model.safetensors. Without an adapter the forward is torch::linear, bit for bit.
//
// Threading: as any module: concurrent forwards are safe while nobody trains or edits the adapter.
#pragma once

#include <torch/torch.h>

#include <memory>

namespace unirank::model {

struct Int8Packed;

struct LoraSettings {
    std::int64_t rank = 8;
    double alpha = 16;
    double dropout = 0.0;
    bool rslora = false; ///< scale = alpha / sqrt(r) instead of alpha / r
    double scale() const;
};

class LoraLinearImpl : public torch::nn::Module {
public:
    LoraLinearImpl(std::int64_t in, std::int64_t out, bool bias);

    torch::Tensor forward(const torch::Tensor &x);

    /// Adds a fresh adapter as PEFT initialises one: A Kaiming-uniform (a = sqrt(5)), B zero, so the
    /// layer's output is unchanged until B is trained. Replaces an existing adapter. The adapter is
    /// float32 over a bf16/fp16 base (PEFT's choice), in the base's dtype otherwise.
    void addAdapter(const LoraSettings &settings);
    void removeAdapter();
    /// W += scale * B A, then removes the adapter.
    void mergeAdapter();
    bool hasAdapter() const { return !m_loraA.is_empty(); }
    const LoraSettings &adapterSettings() const { return m_settings; }
    /// The dropout applied before A in training mode (e.g. 0 for preference training, as TRL does).
    void setAdapterDropout(double p) { m_settings.dropout = p; }

    /// Runs the base product with a dynamic int8 weight (int8_linear.h); null returns to float.
    void setInt8(std::shared_ptr<const Int8Packed> packed) { m_int8 = std::move(packed); }
    bool isInt8() const { return m_int8 != nullptr; }

    torch::Tensor &weight() { return m_weight; }
    torch::Tensor &bias() { return m_bias; } ///< undefined without bias
    torch::nn::Linear &loraA() { return m_loraA; }
    torch::nn::Linear &loraB() { return m_loraB; }

private:
    torch::Tensor m_weight, m_bias;
    std::shared_ptr<const Int8Packed> m_int8;
    torch::nn::Linear m_loraA{nullptr}, m_loraB{nullptr};
    LoraSettings m_settings;
};
TORCH_MODULE(LoraLinear);

} // namespace unirank::model
