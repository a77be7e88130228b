// SPDX-License-Identifier: GPL-3.0-or-later
// The vision towers of Qwen2-VL, Qwen2.5-VL and Qwen3-VL: Conv3d patch embedding (as one GEMM,
// kernel = stride), 2-D rotary position embedding, pre-norm ViT blocks with attention block-diagonal
// per image (per frame group), and a merger (norm, 2x2 neighbours concatenated, Linear-GELU-Linear).
// The families differ in (VisionConfig):
//   Qwen2-VL    LayerNorm, quick_gelu MLP fc1/fc2, merger ln_q + mlp.0/mlp.2;
//   Qwen2.5-VL  RMSNorm, gated SiLU MLP with biases, attention within 112-pixel windows except in
//               fullAttentionBlocks (rows reordered by window and restored after the merger);
//   Qwen3-VL    LayerNorm, gelu-tanh MLP linear_fc1/fc2, a patch-embedding bias, a learned position
//               grid interpolated bilinearly to each image, and DeepStack: the blocks in
//               deepstackIndexes feed extra mergers whose outputs the decoder adds to its first layers.
//
// Input rows follow the processor's patch order (see core/vision/image_preprocess.h); output rows are
// one per merged 2x2 window, images in order. For Qwen3-VL each output row is the main embedding
// followed by the DeepStack embeddings ([rows, hidden * (1 + deepstack)]), so caches of image
// embeddings hold all of them; Qwen2VL::embed() splits them. Submodule names match Hugging Face's
// (`patch_embed.proj`, `blocks.N.attn.qkv`, `merger.mlp.0`, `deepstack_merger_list.K.linear_fc1`,
// ...), so named_parameters() are checkpoint names minus `visual.`.
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

/// Qwen2-VL fc2(quick_gelu(fc1(x))); Qwen2.5-VL down_proj(silu(gate_proj(x)) * up_proj(x));
/// Qwen3-VL linear_fc2(gelu_tanh(linear_fc1(x))). All with biases.
class VisionMlpImpl : public torch::nn::Module {
public:
    explicit VisionMlpImpl(const VisionConfig &c);
    torch::Tensor forward(const torch::Tensor &x);

private:
    Family m_family;
    LoraLinear m_fc1{nullptr}, m_fc2{nullptr}, m_gate{nullptr}; ///< gate only for Qwen2.5-VL
};
TORCH_MODULE(VisionMlp);

/// LayerNorm (weight, bias; Qwen2-VL, Qwen3-VL) or RMSNorm (weight; Qwen2.5-VL), eps 1e-6.
class VisionNormImpl : public torch::nn::Module {
public:
    VisionNormImpl(std::int64_t dim, bool rms);
    torch::Tensor forward(const torch::Tensor &x);

private:
    bool m_rms;
    torch::Tensor m_weight, m_bias;
};
TORCH_MODULE(VisionNorm);

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
    VisionNorm m_norm1{nullptr}, m_norm2{nullptr};
    VisionAttention m_attn{nullptr};
    VisionMlp m_mlp{nullptr};
};
TORCH_MODULE(VisionBlock);

/// Qwen2-VL / Qwen2.5-VL merger: ln_q over each patch, then mlp.0, GELU, mlp.2 over 2x2 groups.
class PatchMergerImpl : public torch::nn::Module {
public:
    explicit PatchMergerImpl(const VisionConfig &c);
    torch::Tensor forward(const torch::Tensor &x);

private:
    std::int64_t m_groupWidth;
    VisionNorm m_lnQ{nullptr};
    torch::nn::Sequential m_mlp{nullptr};
};
TORCH_MODULE(PatchMerger);

/// Qwen3-VL merger: norm, linear_fc1, GELU, linear_fc2. The main merger normalises each patch
/// (`postShuffleNorm` false); the DeepStack mergers normalise each concatenated 2x2 group.
class Qwen3MergerImpl : public torch::nn::Module {
public:
    Qwen3MergerImpl(const VisionConfig &c, bool postShuffleNorm);
    torch::Tensor forward(const torch::Tensor &x);

private:
    std::int64_t m_groupWidth;
    bool m_postShuffleNorm;
    VisionNorm m_norm{nullptr};
    LoraLinear m_fc1{nullptr}, m_fc2{nullptr};
};
TORCH_MODULE(Qwen3Merger);

class VisionTowerImpl : public torch::nn::Module {
public:
    explicit VisionTowerImpl(const VisionConfig &c);

    /// pixelValues [P, C*T*p*p] (any float dtype; cast to the weights' dtype), gridThw [n, 3] int64 on
    /// the CPU. Returns [P / merge^2, hidden]. Throws InputError when rows and grids disagree.
    torch::Tensor forward(const torch::Tensor &pixelValues, const torch::Tensor &gridThw, Trace *trace = nullptr);

    /// Rotary angles per patch [P, head_dim/2] (row angles then column angles), float32.
    torch::Tensor rotaryAngles(const torch::Tensor &gridThw) const;

    /// Qwen3-VL: the learned position grid interpolated to each image, [P, E] in processor order.
    torch::Tensor interpolatedPositions(const torch::Tensor &gridThw);

    const VisionConfig &config() const { return m_config; }
    /// Width of each output row: hidden * (1 + DeepStack mergers).
    std::int64_t outputWidth() const;

private:
    VisionConfig m_config;
    PatchEmbed m_patchEmbed{nullptr};
    torch::nn::Embedding m_posEmbed{nullptr}; ///< Qwen3-VL only
    torch::nn::ModuleList m_blocks{nullptr};
    PatchMerger m_merger{nullptr};
    Qwen3Merger m_qwen3Merger{nullptr};       ///< Qwen3-VL's `merger`
    torch::nn::ModuleList m_deepstack{nullptr}; ///< Qwen3-VL's `deepstack_merger_list`
};
TORCH_MODULE(VisionTower);

} // namespace unirank::model
