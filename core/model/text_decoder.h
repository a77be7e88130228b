// SPDX-License-Identifier: GPL-3.0-or-later
// The decoder of Qwen2-VL / Qwen2.5-VL (Qwen2) and Qwen3-VL (Qwen3): token embedding, pre-norm layers
// (RMSNorm in float32, GQA attention with M-RoPE, SwiGLU MLP) and the final RMSNorm. Qwen2 has q/k/v
// biases and M-RoPE in sections (t | h | w); Qwen3 has no biases, per-head RMSNorm on q and k before
// RoPE, an explicit head_dim and interleaved M-RoPE (TextConfig flags), plus DeepStack additions. Submodule names match Hugging Face's
// (`embed_tokens`, `layers.N.self_attn.q_proj`, `norm`), i.e. checkpoint names minus `model.`.
//
// Attention is eager (matmul + float32 softmax), with the reference's masking: disallowed keys get the
// dtype's lowest finite value, so fully masked (padding) rows average instead of producing NaN.
//
// Threading: forward() reads the weights only; concurrent forwards are safe when no thread trains.
#pragma once

#include "core/model/config.h"
#include "core/model/lora_linear.h"
#include "core/model/kv_cache.h"
#include "core/model/trace.h"

#include <torch/torch.h>

namespace unirank::model {

/// weight * (x / sqrt(mean(x^2) + eps)): statistics in float32, the product in x's dtype (Qwen2's,
/// Qwen2.5-VL's vision and Qwen3's RMSNorm alike).
torch::Tensor rmsNorm(const torch::Tensor &x, const torch::Tensor &weight, double eps);

class RMSNormImpl : public torch::nn::Module {
public:
    RMSNormImpl(std::int64_t dim, double eps);
    torch::Tensor forward(const torch::Tensor &x);

private:
    double m_eps;
    torch::Tensor m_weight;
};
TORCH_MODULE(RMSNorm);

/// cos/sin tables [B, S, head_dim] in the model dtype for 3-row positions [3, B, S].
struct RotaryTables {
    torch::Tensor cos, sin;
};

class DecoderAttentionImpl : public torch::nn::Module {
public:
    explicit DecoderAttentionImpl(const TextConfig &c);
    /// x [B, S, H]; allowed [B, 1, S, K_total] bool; cache (may be null) is extended.
    torch::Tensor forward(const torch::Tensor &x, const RotaryTables &rope, const torch::Tensor &mask,
                          torch::Tensor *cacheKeys, torch::Tensor *cacheValues);

private:
    std::int64_t m_heads, m_kvHeads, m_headDim;
    LoraLinear m_q{nullptr}, m_k{nullptr}, m_v{nullptr}, m_o{nullptr};
    RMSNorm m_qNorm{nullptr}, m_kNorm{nullptr}; ///< Qwen3 only
};
TORCH_MODULE(DecoderAttention);

class DecoderMlpImpl : public torch::nn::Module {
public:
    explicit DecoderMlpImpl(const TextConfig &c);
    torch::Tensor forward(const torch::Tensor &x);

private:
    LoraLinear m_gate{nullptr}, m_up{nullptr}, m_down{nullptr};
};
TORCH_MODULE(DecoderMlp);

class DecoderLayerImpl : public torch::nn::Module {
public:
    explicit DecoderLayerImpl(const TextConfig &c);
    torch::Tensor forward(const torch::Tensor &x, const RotaryTables &rope, const torch::Tensor &mask,
                          torch::Tensor *cacheKeys, torch::Tensor *cacheValues);

private:
    RMSNorm m_inputNorm{nullptr}, m_postNorm{nullptr};
    DecoderAttention m_attn{nullptr};
    DecoderMlp m_mlp{nullptr};
};
TORCH_MODULE(DecoderLayer);

/// Qwen3-VL's DeepStack: after decoder layer k (k < embeds.size()), embeds[k] ([visual tokens, H],
/// in row-major order of `mask`) is added to the hidden states of the positions where mask [B, S]
/// is true.
struct DeepStackInput {
    torch::Tensor mask;
    std::vector<torch::Tensor> embeds;
};

class TextDecoderImpl : public torch::nn::Module {
public:
    explicit TextDecoderImpl(const TextConfig &c);

    torch::nn::Embedding &embedTokens() { return m_embed; }

    /// inputsEmbeds [B, S, H]; positionIds [3, B, S] int64; attentionMask [B, S] (1 = real token).
    /// With a cache, attends to its keys too and appends this chunk's keys and values to it.
    /// `allowedKeys` [B, S, past + S] bool replaces the causal mask over real keys (ForwardInput).
    /// Returns the final-normed hidden states [B, S, H].
    torch::Tensor forward(const torch::Tensor &inputsEmbeds, const torch::Tensor &positionIds,
                          const torch::Tensor &attentionMask, KVCache *cache = nullptr, Trace *trace = nullptr,
                          const DeepStackInput *deepstack = nullptr, const torch::Tensor *allowedKeys = nullptr);

    RotaryTables rotary(const torch::Tensor &positionIds, torch::ScalarType dtype, torch::Device device) const;

    /// Recompute each layer's activations in backward instead of keeping them (training without a
    /// cache and with grad mode on; see activation_checkpoint.h). Off by default.
    void setGradientCheckpointing(bool on) { m_checkpointing = on; }
    bool gradientCheckpointing() const { return m_checkpointing; }

private:
    TextConfig m_config;
    bool m_checkpointing = false;
    torch::nn::Embedding m_embed{nullptr};
    torch::nn::ModuleList m_layers{nullptr};
    RMSNorm m_norm{nullptr};
};
TORCH_MODULE(TextDecoder);

} // namespace unirank::model
