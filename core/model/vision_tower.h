// SPDX-License-Identifier: GPL-3.0-or-later
// The Qwen2-VL vision tower: Conv3d patch embedding (as one GEMM, kernel = stride), 2-D rotary
// position embedding, pre-LN ViT blocks with attention block-diagonal per image (per frame group),
// and the PatchMerger (LayerNorm, 2x2 neighbours concatenated, Linear-GELU-Linear).
//
// Input rows follow the processor's patch order (see core/vision/image_preprocess.h); output rows are
// one per merged 2x2 window, images in order. Submodule names match Hugging Face's (`patch_embed.proj`,
// `blocks.N.attn.qkv`, `merger.mlp.0`, ...), so named_parameters() are checkpoint names minus `visual.`.
//
// Threading: forward() reads the weights only; concurrent forwards are safe when no thread trains.
#pragma once

#include "core/model/config.h"
#include "core/model/lora_linear.h"
#include "core/model/trace.h"

#include <torch/torch.h>

namespace unirank::model {

class VisionAttentionImpl : public torch::nn::Module {
public:
    VisionAttentionImpl(std::int64_t dim, std::int64_t heads);
    /// x [N, E]; cos/sin [N, head_dim] (float32); segments: lengths of the attention blocks.
    torch::Tensor forward(const torch::Tensor &x, const torch::Tensor &cos, const torch::Tensor &sin,
                          const std::vector<std::int64_t> &segments);

private:
    std::int64_t m_heads;
    LoraLinear m_qkv{nullptr}, m_proj{nullptr};
};
TORCH_MODULE(VisionAttention);

/// fc2(quick_gelu(fc1(x))).
class VisionMlpImpl : public torch::nn::Module {
public:
    VisionMlpImpl(std::int64_t dim, std::int64_t hidden);
    torch::Tensor forward(const torch::Tensor &x);

private:
    LoraLinear m_fc1{nullptr}, m_fc2{nullptr};
};
TORCH_MODULE(VisionMlp);

/// Conv3d with kernel = stride over [C, T, p, p] blocks, i.e. one GEMM with the flattened kernel.
class PatchEmbedImpl : public torch::nn::Module {
public:
    explicit PatchEmbedImpl(const VisionConfig &c);
    torch::Tensor forward(const torch::Tensor &pixelValues); ///< [P, C*T*p*p] -> [P, E]

private:
    torch::nn::Conv3d m_proj{nullptr};
};
TORCH_MODULE(PatchEmbed);

class VisionBlockImpl : public torch::nn::Module {
public:
    explicit VisionBlockImpl(const VisionConfig &c);
    torch::Tensor forward(const torch::Tensor &x, const torch::Tensor &cos, const torch::Tensor &sin,
                          const std::vector<std::int64_t> &segments);

private:
    torch::nn::LayerNorm m_norm1{nullptr}, m_norm2{nullptr};
    VisionAttention m_attn{nullptr};
    VisionMlp m_mlp{nullptr};
};
TORCH_MODULE(VisionBlock);

class PatchMergerImpl : public torch::nn::Module {
public:
    explicit PatchMergerImpl(const VisionConfig &c);
    torch::Tensor forward(const torch::Tensor &x);

private:
    std::int64_t m_groupWidth;
    torch::nn::LayerNorm m_lnQ{nullptr};
    torch::nn::Sequential m_mlp{nullptr};
};
TORCH_MODULE(PatchMerger);

class VisionTowerImpl : public torch::nn::Module {
public:
    explicit VisionTowerImpl(const VisionConfig &c);

    /// pixelValues [P, C*T*p*p] (any float dtype; cast to the weights' dtype), gridThw [n, 3] int64 on
    /// the CPU. Returns [P / merge^2, hidden]. Throws InputError when rows and grids disagree.
    torch::Tensor forward(const torch::Tensor &pixelValues, const torch::Tensor &gridThw, Trace *trace = nullptr);

    /// Rotary angles per patch [P, head_dim/2] (row angles then column angles), float32.
    torch::Tensor rotaryAngles(const torch::Tensor &gridThw) const;

    const VisionConfig &config() const { return m_config; }

private:
    VisionConfig m_config;
    PatchEmbed m_patchEmbed{nullptr};
    torch::nn::ModuleList m_blocks{nullptr};
    PatchMerger m_merger{nullptr};
};
TORCH_MODULE(VisionTower);

} // namespace unirank::model
