// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/model/vision_tower.h"

#include "core/model/attention_blocks.h"
#include "core/model/gemm.h"
#include "core/model/row_blocks.h"
#include "core/model/text_decoder.h"
#include "core/model/vision_layout.h"

#include "core/model/param_init.h"

#include "core/util/error.h"

#include <algorithm>

#include <cmath>

namespace unirank::model {
namespace {

namespace F = torch::nn::functional;

torch::Tensor rotateHalf(const torch::Tensor &x)
{
    const auto half = x.size(-1) / 2;
    return torch::cat({-x.slice(-1, half), x.slice(-1, 0, half)}, -1);
}

constexpr double kNormEps = 1e-6;

bool usesRmsNorm(const VisionConfig &c)
{
    return c.family == Family::Qwen2_5VL;
}

/// Rows of `x` taken in `order` by groups of `unit` consecutive rows.
torch::Tensor gatherGroups(const torch::Tensor &x, const torch::Tensor &order, std::int64_t unit)
{
    const auto rows = x.size(0);
    return x.reshape({rows / unit, unit, -1}).index_select(0, order.to(x.device())).reshape({rows, -1});
}

} // namespace

VisionAttentionImpl::VisionAttentionImpl(std::int64_t dim, std::int64_t heads)
    : m_heads(heads),
      m_qkv(register_module("qkv", LoraLinear(dim, 3 * dim, true))),
      m_proj(register_module("proj", LoraLinear(dim, dim, true)))
{
}

torch::Tensor VisionAttentionImpl::forward(const torch::Tensor &x, const torch::Tensor &cos, const torch::Tensor &sin,
                                           const std::vector<std::int64_t> &segments)
{
    const auto n = x.size(0);
    const auto headDim = x.size(1) / m_heads;
    const auto type = x.scalar_type();
    // q, k, v as contiguous [heads, N, hd], widened once where half-precision products run in float32
    // (gemm.h); the fused qkv projection is dropped before attention starts (a 12.8 MP sheet's is
    // 660 MB in float32).
    torch::Tensor q, k, v;
    {
        const auto qkv = m_qkv(x).view({n, 3, m_heads, headDim}).permute({1, 0, 2, 3}); // [3, N, heads, hd]
        // Rotary in float32 whatever the model dtype, as the reference does.
        const auto c = cos.unsqueeze(1), s = sin.unsqueeze(1);
        const auto rotate = [&](const torch::Tensor &t) {
            const auto f = t.to(torch::kFloat32);
            return gemm::operand((f * c + rotateHalf(f) * s).to(type).transpose(0, 1).contiguous());
        };
        q = rotate(qkv[0]);
        k = rotate(qkv[1]);
        v = gemm::operand(qkv[2].transpose(0, 1).contiguous());
    }
    const double norm = std::sqrt(static_cast<double>(headDim)); // the reference divides
    // Each block's result goes straight to its rows of the output [N, heads, hd]: no list of blocks,
    // concatenation and transposed copy of the whole.
    auto out = torch::empty({n, m_heads, headDim}, x.options());
    std::int64_t start = 0;
    for (const auto len : segments) {
        const auto qs = q.narrow(1, start, len), vs = v.narrow(1, start, len);
        const auto kt = k.narrow(1, start, len).transpose(1, 2);
        // Query rows in blocks: the score matrix of a block stays under kAttentionBlockBytes, so memory
        // grows linearly with the patches (a 12.8 MP sheet has 65k of them). Each row's softmax still
        // sees every key, so the result is the same as one block. Each product is rounded to the
        // model's dtype as the native kernel's would be.
        const auto rows = attentionBlockRows(m_heads, len);
        for (std::int64_t r = 0; r < len; r += rows) {
            const auto count = std::min(rows, len - r);
            const auto scores = torch::matmul(qs.narrow(1, r, count), kt).to(type) / norm;
            const auto probs = torch::softmax(scores, -1, torch::kFloat32).to(type);
            const auto block = torch::matmul(gemm::operand(probs), vs).to(type); // [heads, count, hd]
            out.narrow(0, start + r, count).copy_(block.transpose(0, 1));
        }
        start += len;
    }
    return m_proj(out.view({n, -1}));
}

VisionMlpImpl::VisionMlpImpl(const VisionConfig &c) : m_family(c.family)
{
    const auto dim = c.embedDim, hidden = c.mlpHidden();
    switch (c.family) {
    case Family::Qwen2VL:
        m_fc1 = register_module("fc1", LoraLinear(dim, hidden, true));
        m_fc2 = register_module("fc2", LoraLinear(hidden, dim, true));
        break;
    case Family::Qwen2_5VL:
        m_gate = register_module("gate_proj", LoraLinear(dim, hidden, true));
        m_fc1 = register_module("up_proj", LoraLinear(dim, hidden, true));
        m_fc2 = register_module("down_proj", LoraLinear(hidden, dim, true));
        break;
    case Family::Qwen3VL:
        m_fc1 = register_module("linear_fc1", LoraLinear(dim, hidden, true));
        m_fc2 = register_module("linear_fc2", LoraLinear(hidden, dim, true));
        break;
    }
}

torch::Tensor VisionMlpImpl::forward(const torch::Tensor &x)
{
    // A 12.8 MP sheet's 43k patches: the hidden activations (4x the width) and the activation's
    // temporaries never exist at once.
    return inRowBlocks(x, m_fc1->weight().size(0), kMlpBlockBytes, [&](const torch::Tensor &part) {
        const auto h = m_fc1(part);
        switch (m_family) {
        case Family::Qwen2_5VL:
            return m_fc2(torch::silu(m_gate(part)) * h);
        case Family::Qwen3VL:
            return m_fc2(torch::gelu(h, "tanh"));
        default:
            return m_fc2(h * torch::sigmoid(1.702 * h)); // quick_gelu
        }
    });
}

VisionNormImpl::VisionNormImpl(std::int64_t dim, bool rms) : m_rms(rms)
{
    m_weight = register_parameter("weight", torch::ones({dim}));
    if (!rms)
        m_bias = register_parameter("bias", torch::zeros({dim}));
}

torch::Tensor VisionNormImpl::forward(const torch::Tensor &x)
{
    return m_rms ? rmsNorm(x, m_weight, kNormEps) : torch::layer_norm(x, {x.size(-1)}, m_weight, m_bias, kNormEps);
}

PatchEmbedImpl::PatchEmbedImpl(const VisionConfig &c)
    : m_proj(register_module(
          "proj", torch::nn::Conv3d(torch::nn::Conv3dOptions(c.inChannels, c.embedDim,
                                                              {c.temporalPatchSize, c.patchSize, c.patchSize})
                                        .stride({c.temporalPatchSize, c.patchSize, c.patchSize})
                                        .bias(c.family == Family::Qwen3VL))))
{
}

torch::Tensor PatchEmbedImpl::forward(const torch::Tensor &pixelValues)
{
    const auto &w = m_proj->weight;
    const auto x = pixelValues.to(w.scalar_type());
    return gemm::linear(x, w.reshape({w.size(0), -1}), m_proj->bias);
}

VisionBlockImpl::VisionBlockImpl(const VisionConfig &c)
    : m_norm1(register_module("norm1", VisionNorm(c.embedDim, usesRmsNorm(c)))),
      m_norm2(register_module("norm2", VisionNorm(c.embedDim, usesRmsNorm(c)))),
      m_attn(register_module("attn", VisionAttention(c.embedDim, c.numHeads))),
      m_mlp(register_module("mlp", VisionMlp(c)))
{
}

torch::Tensor VisionBlockImpl::forward(const torch::Tensor &x, const torch::Tensor &cos, const torch::Tensor &sin,
                                       const std::vector<std::int64_t> &segments)
{
    const auto h = x + m_attn(m_norm1(x), cos, sin, segments);
    return h + m_mlp(m_norm2(h));
}

PatchMergerImpl::PatchMergerImpl(const VisionConfig &c)
    : m_groupWidth(c.embedDim * c.spatialMergeSize * c.spatialMergeSize),
      m_lnQ(register_module("ln_q", VisionNorm(c.embedDim, usesRmsNorm(c)))),
      m_mlp(register_module("mlp", torch::nn::Sequential(LoraLinear(m_groupWidth, m_groupWidth, true),
                                                         torch::nn::GELU(),
                                                         LoraLinear(m_groupWidth, c.hiddenSize, true))))
{
}

torch::Tensor PatchMergerImpl::forward(const torch::Tensor &x)
{
    return m_mlp->forward(m_lnQ(x).view({-1, m_groupWidth}));
}

Qwen3MergerImpl::Qwen3MergerImpl(const VisionConfig &c, bool postShuffleNorm)
    : m_groupWidth(c.embedDim * c.spatialMergeSize * c.spatialMergeSize), m_postShuffleNorm(postShuffleNorm),
      m_norm(register_module("norm", VisionNorm(postShuffleNorm ? m_groupWidth : c.embedDim, false))),
      m_fc1(register_module("linear_fc1", LoraLinear(m_groupWidth, m_groupWidth, true))),
      m_fc2(register_module("linear_fc2", LoraLinear(m_groupWidth, c.hiddenSize, true)))
{
}

torch::Tensor Qwen3MergerImpl::forward(const torch::Tensor &x)
{
    const auto grouped = m_postShuffleNorm ? m_norm(x.view({-1, m_groupWidth})) : m_norm(x).view({-1, m_groupWidth});
    return m_fc2(torch::gelu(m_fc1(grouped)));
}

VisionTowerImpl::VisionTowerImpl(const VisionConfig &c)
    : m_config(c), m_patchEmbed(register_module("patch_embed", PatchEmbed(c))),
      m_blocks(register_module("blocks", torch::nn::ModuleList()))
{
    if (c.numPositionEmbeddings > 0)
        m_posEmbed = register_module(
            "pos_embed", SkipParameterInit::active()
                             ? torch::nn::Embedding(torch::nn::EmbeddingOptions(c.numPositionEmbeddings, c.embedDim)
                                                        ._weight(torch::empty({c.numPositionEmbeddings, c.embedDim})))
                             : torch::nn::Embedding(c.numPositionEmbeddings, c.embedDim));
    for (std::int64_t i = 0; i < c.depth; ++i)
        m_blocks->push_back(VisionBlock(c));
    if (c.family == Family::Qwen3VL) {
        m_qwen3Merger = register_module("merger", Qwen3Merger(c, false));
        m_deepstack = register_module("deepstack_merger_list", torch::nn::ModuleList());
        for (std::size_t k = 0; k < c.deepstackIndexes.size(); ++k)
            m_deepstack->push_back(Qwen3Merger(c, true));
    } else {
        m_merger = register_module("merger", PatchMerger(c));
    }
}

std::int64_t VisionTowerImpl::outputWidth() const
{
    return m_config.hiddenSize * (1 + static_cast<std::int64_t>(m_config.deepstackIndexes.size()));
}

torch::Tensor VisionTowerImpl::interpolatedPositions(const torch::Tensor &gridThw)
{
    const auto &table = m_posEmbed->weight;
    const auto samples = positionSamples(gridThw, m_config);
    const auto index = samples.index.to(table.device()), weight = samples.weight.to(table.device(), table.scalar_type());
    // The four corners weighted in the table's dtype and summed in order, as the reference does.
    auto out = table.index_select(0, index[0]) * weight[0].unsqueeze(1);
    for (int k = 1; k < 4; ++k)
        out = out + table.index_select(0, index[k]) * weight[k].unsqueeze(1);
    return out;
}

torch::Tensor VisionTowerImpl::rotaryAngles(const torch::Tensor &gridThw) const
{
    const auto grid = gridThw.to(torch::kCPU, torch::kLong).contiguous();
    const auto g = grid.accessor<std::int64_t, 2>();
    const auto m = m_config.spatialMergeSize;
    std::vector<std::int64_t> rows, cols;
    std::int64_t maxSide = 1;
    for (std::int64_t i = 0; i < grid.size(0); ++i) {
        const auto t = g[i][0], h = g[i][1], w = g[i][2];
        maxSide = std::max({maxSide, h, w});
        for (std::int64_t ti = 0; ti < t; ++ti)
            for (std::int64_t bh = 0; bh < h / m; ++bh)
                for (std::int64_t bw = 0; bw < w / m; ++bw)
                    for (std::int64_t ih = 0; ih < m; ++ih)
                        for (std::int64_t iw = 0; iw < m; ++iw) {
                            rows.push_back(bh * m + ih);
                            cols.push_back(bw * m + iw);
                        }
    }
    // inv_freq over dim = head_dim/2 with theta 10000, in float32 like the reference.
    const auto dim = m_config.headDim() / 2;
    const auto opts = torch::TensorOptions().dtype(torch::kFloat32);
    const auto invFreq =
        1.0 / torch::pow(torch::tensor(10000.0, opts), torch::arange(0, dim, 2, torch::kLong).to(torch::kFloat32) / dim);
    const auto table = torch::outer(torch::arange(maxSide, opts), invFreq); // [maxSide, dim/2]
    const auto r = torch::tensor(rows, torch::kLong), c = torch::tensor(cols, torch::kLong);
    return torch::cat({table.index_select(0, r), table.index_select(0, c)}, 1);
}

torch::Tensor VisionTowerImpl::forward(const torch::Tensor &pixelValues, const torch::Tensor &gridThw, Trace *trace)
{
    const auto grid = gridThw.to(torch::kCPU, torch::kLong).contiguous();
    if (grid.dim() != 2 || grid.size(1) != 3)
        throw InputError("image_grid_thw must have shape [images, 3]");
    const auto g = grid.accessor<std::int64_t, 2>();
    std::vector<std::int64_t> segments;
    std::int64_t patches = 0;
    const auto m = m_config.spatialMergeSize;
    for (std::int64_t i = 0; i < grid.size(0); ++i) {
        if (g[i][0] <= 0 || g[i][1] <= 0 || g[i][2] <= 0 || g[i][1] % m != 0 || g[i][2] % m != 0)
            throw InputError("image_grid_thw row " + std::to_string(i) + " is not a valid (t, h, w) patch grid");
        for (std::int64_t t = 0; t < g[i][0]; ++t)
            segments.push_back(g[i][1] * g[i][2]);
        patches += g[i][0] * g[i][1] * g[i][2];
    }
    if (pixelValues.dim() != 2 || pixelValues.size(0) != patches || pixelValues.size(1) != m_config.patchFeatures())
        throw InputError("pixel_values has shape " + c10::str(pixelValues.sizes()) + " but the grids need [" +
                         std::to_string(patches) + ", " + std::to_string(m_config.patchFeatures()) + "]");
    auto x = m_patchEmbed(pixelValues);
    record(trace, "vision.patch_embed", x); // as transformers' hook on patch_embed sees it
    if (m_posEmbed)
        x = x + interpolatedPositions(grid);
    auto angles = rotaryAngles(grid).to(pixelValues.device());
    record(trace, "vision.rot_pos_emb", angles);
    // Qwen2.5-VL: rows in window order (each merge group kept whole) for the blocks; restored after
    // the merger, whose output rows are merge groups.
    const auto unit = m * m;
    WindowLayout windows;
    if (m_config.windowSize > 0) {
        windows = windowLayout(grid, m_config);
        x = gatherGroups(x, windows.order, unit);
        angles = gatherGroups(angles, windows.order, unit);
    }
    const auto emb = torch::cat({angles, angles}, -1);
    const auto cos = emb.cos(), sin = emb.sin();
    std::vector<torch::Tensor> deepstack;
    const auto &full = m_config.fullAttentionBlocks;
    for (std::size_t i = 0; i < m_blocks->size(); ++i) {
        const auto index = static_cast<std::int64_t>(i);
        const bool windowed = m_config.windowSize > 0 && std::find(full.begin(), full.end(), index) == full.end();
        x = m_blocks[i]->as<VisionBlock>()->forward(x, cos, sin, windowed ? windows.segments : segments);
        record(trace, "vision.block." + std::to_string(i), x);
        const auto &ds = m_config.deepstackIndexes;
        if (const auto it = std::find(ds.begin(), ds.end(), index); it != ds.end())
            deepstack.push_back(m_deepstack[static_cast<std::size_t>(it - ds.begin())]->as<Qwen3Merger>()->forward(x));
    }
    auto out = m_merger ? m_merger(x) : m_qwen3Merger(x);
    if (m_config.windowSize > 0)
        out = out.index_select(0, torch::argsort(windows.order).to(out.device()));
    record(trace, "image_embeds", out);
    for (std::size_t k = 0; k < deepstack.size(); ++k)
        record(trace, "deepstack." + std::to_string(k), deepstack[k]);
    if (!deepstack.empty()) {
        deepstack.insert(deepstack.begin(), out);
        out = torch::cat(deepstack, 1);
    }
    return out;
}

} // namespace unirank::model
