// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/model/text_decoder.h"

#include "core/model/activation_checkpoint.h"
#include "core/model/attention_blocks.h"
#include "core/model/gemm.h"
#include "core/model/param_init.h"
#include "core/model/row_blocks.h"

#include "core/util/error.h"

#include <cmath>

namespace unirank::model {
namespace {

torch::Tensor rotateHalf(const torch::Tensor &x)
{
    const auto half = x.size(-1) / 2;
    return torch::cat({-x.slice(-1, half), x.slice(-1, 0, half)}, -1);
}

LoraLinear linear(std::int64_t in, std::int64_t out, bool bias)
{
    return LoraLinear(in, out, bias);
}

/// The dtype's lowest finite value: what the reference uses for masked keys (never -inf, so a row
/// with every key masked averages instead of turning NaN).
double lowestOf(torch::ScalarType type)
{
    switch (type) {
    case torch::kBFloat16:
        return static_cast<double>(std::numeric_limits<c10::BFloat16>::lowest());
    case torch::kHalf:
        return static_cast<double>(std::numeric_limits<c10::Half>::lowest());
    case torch::kDouble:
        return std::numeric_limits<double>::lowest();
    default:
        return static_cast<double>(std::numeric_limits<float>::lowest());
    }
}

} // namespace

RMSNormImpl::RMSNormImpl(std::int64_t dim, double eps) : m_eps(eps)
{
    m_weight = register_parameter("weight", torch::ones({dim}));
}

torch::Tensor rmsNorm(const torch::Tensor &x, const torch::Tensor &weight, double eps)
{
    const auto f = x.to(torch::kFloat32);
    const auto normed = f * torch::rsqrt(f.pow(2).mean(-1, true) + eps);
    return weight * normed.to(x.scalar_type());
}

torch::Tensor RMSNormImpl::forward(const torch::Tensor &x)
{
    return rmsNorm(x, m_weight, m_eps);
}

DecoderAttentionImpl::DecoderAttentionImpl(const TextConfig &c)
    : m_heads(c.numHeads), m_kvHeads(c.numKvHeads), m_headDim(c.headDim),
      m_q(register_module("q_proj", linear(c.hiddenSize, c.numHeads * c.headDim, c.qkvBias))),
      m_k(register_module("k_proj", linear(c.hiddenSize, c.numKvHeads * c.headDim, c.qkvBias))),
      m_v(register_module("v_proj", linear(c.hiddenSize, c.numKvHeads * c.headDim, c.qkvBias))),
      m_o(register_module("o_proj", linear(c.numHeads * c.headDim, c.hiddenSize, c.outputBias)))
{
    if (c.qkNorm) {
        m_qNorm = register_module("q_norm", RMSNorm(c.headDim, c.rmsNormEps));
        m_kNorm = register_module("k_norm", RMSNorm(c.headDim, c.rmsNormEps));
    }
}

torch::Tensor DecoderAttentionImpl::forward(const torch::Tensor &x, const RotaryTables &rope,
                                            const torch::Tensor &allowed, torch::Tensor *cacheKeys,
                                            torch::Tensor *cacheValues)
{
    const auto b = x.size(0), s = x.size(1);
    auto q = m_q(x).view({b, s, m_heads, m_headDim});
    auto k = m_k(x).view({b, s, m_kvHeads, m_headDim});
    if (m_qNorm) { // Qwen3: each head normalised before RoPE
        q = m_qNorm(q);
        k = m_kNorm(k);
    }
    q = q.transpose(1, 2);
    k = k.transpose(1, 2);
    auto v = m_v(x).view({b, s, m_kvHeads, m_headDim}).transpose(1, 2);
    const auto cos = rope.cos.unsqueeze(1), sin = rope.sin.unsqueeze(1);
    q = q * cos + rotateHalf(q) * sin;
    k = k * cos + rotateHalf(k) * sin;
    if (cacheKeys && cacheKeys->defined()) {
        k = torch::cat({*cacheKeys, k}, 2);
        v = torch::cat({*cacheValues, v}, 2);
    }
    if (cacheKeys) {
        *cacheKeys = k;
        *cacheValues = v;
    }
    const auto groups = m_heads / m_kvHeads;
    if (groups > 1) { // repeat_kv: KV head j serves query heads j*groups .. j*groups+groups-1
        const auto kl = k.size(2);
        k = k.unsqueeze(2).expand({b, m_kvHeads, groups, kl, m_headDim}).reshape({b, m_heads, kl, m_headDim});
        v = v.unsqueeze(2).expand({b, m_kvHeads, groups, kl, m_headDim}).reshape({b, m_heads, kl, m_headDim});
    }
    // Operands widened once for all blocks where half-precision products run in float32 (gemm.h);
    // each product is rounded to the model's dtype as the native kernel's would be.
    const auto type = q.scalar_type();
    const auto qw = gemm::operand(q), kt = gemm::operand(k).transpose(2, 3), vw = gemm::operand(v);
    const double norm = std::sqrt(static_cast<double>(m_headDim));
    // Query rows in blocks (see attentionBlockRows): a prompt with a large image has ~16k tokens.
    const auto rows = attentionBlockRows(b * m_heads, k.size(2));
    std::vector<torch::Tensor> parts;
    for (std::int64_t r = 0; r < s; r += rows) {
        const auto n = std::min(rows, s - r);
        auto scores = torch::matmul(rows >= s ? qw : qw.narrow(2, r, n), kt).to(type) / norm;
        const auto block = rows >= s ? allowed : allowed.narrow(2, r, n);
        scores = scores.masked_fill(block.logical_not(), lowestOf(scores.scalar_type()));
        const auto probs = torch::softmax(scores, -1, torch::kFloat32).to(type);
        parts.push_back(torch::matmul(gemm::operand(probs), vw).to(type));
    }
    const auto attended = parts.size() == 1 ? parts.front() : torch::cat(parts, 2);
    const auto out = attended.transpose(1, 2).reshape({b, s, m_heads * m_headDim});
    return m_o(out);
}

DecoderMlpImpl::DecoderMlpImpl(const TextConfig &c)
    : m_gate(register_module("gate_proj", linear(c.hiddenSize, c.intermediateSize, false))),
      m_up(register_module("up_proj", linear(c.hiddenSize, c.intermediateSize, false))),
      m_down(register_module("down_proj", linear(c.intermediateSize, c.hiddenSize, false)))
{
}

torch::Tensor DecoderMlpImpl::forward(const torch::Tensor &x)
{
    // An 11k-token prompt's four [tokens, 8960] temporaries would take 1.5 GB at 2B width.
    return inRowBlocks(x, m_gate->weight().size(0), kMlpBlockBytes, [&](const torch::Tensor &part) {
        return m_down(torch::silu(m_gate(part)) * m_up(part));
    });
}

DecoderLayerImpl::DecoderLayerImpl(const TextConfig &c)
    : m_inputNorm(register_module("input_layernorm", RMSNorm(c.hiddenSize, c.rmsNormEps))),
      m_postNorm(register_module("post_attention_layernorm", RMSNorm(c.hiddenSize, c.rmsNormEps))),
      m_attn(register_module("self_attn", DecoderAttention(c))), m_mlp(register_module("mlp", DecoderMlp(c)))
{
}

torch::Tensor DecoderLayerImpl::forward(const torch::Tensor &x, const RotaryTables &rope, const torch::Tensor &mask,
                                        torch::Tensor *cacheKeys, torch::Tensor *cacheValues)
{
    const auto h = x + m_attn(m_inputNorm(x), rope, mask, cacheKeys, cacheValues);
    return h + m_mlp(m_postNorm(h));
}

TextDecoderImpl::TextDecoderImpl(const TextConfig &c)
    : m_config(c),
      m_embed(register_module("embed_tokens",
                              SkipParameterInit::active()
                                  ? torch::nn::Embedding(torch::nn::EmbeddingOptions(c.vocabSize, c.hiddenSize)
                                                             ._weight(torch::empty({c.vocabSize, c.hiddenSize})))
                                  : torch::nn::Embedding(c.vocabSize, c.hiddenSize))),
      m_layers(register_module("layers", torch::nn::ModuleList())),
      m_norm(register_module("norm", RMSNorm(c.hiddenSize, c.rmsNormEps)))
{
    for (std::int64_t i = 0; i < c.numLayers; ++i)
        m_layers->push_back(DecoderLayer(c));
}

RotaryTables TextDecoderImpl::rotary(const torch::Tensor &positionIds, torch::ScalarType dtype,
                                     torch::Device device) const
{
    const auto half = m_config.headDim / 2;
    const auto f32 = torch::TensorOptions().dtype(torch::kFloat32).device(device);
    const auto invFreq = 1.0 / torch::pow(torch::tensor(m_config.ropeTheta, f32),
                                          torch::arange(0, m_config.headDim, 2, f32.dtype(torch::kLong)).to(torch::kFloat32) /
                                              static_cast<double>(m_config.headDim));
    // [3, B, S, half]: position x frequency, exact products in float32.
    const auto freqs = positionIds.to(device).to(torch::kFloat32).unsqueeze(-1) * invFreq.view({1, 1, 1, half});
    const auto emb = torch::cat({freqs, freqs}, -1); // [3, B, S, head_dim]
    auto cos = emb.cos(), sin = emb.sin();
    if (m_config.mropeInterleaved) {
        // Qwen3-VL: frequency j takes its row from j mod 3 (t, h, w, t, h, w, ...) while j is below
        // 3 x that row's section; all other frequencies stay temporal. Both halves alike.
        std::vector<std::int64_t> row(static_cast<std::size_t>(half), 0);
        for (std::int64_t r = 1; r < 3; ++r)
            for (std::int64_t j = r; j < std::min(half, 3 * m_config.mropeSection[static_cast<std::size_t>(r)]); j += 3)
                row[static_cast<std::size_t>(j)] = r;
        std::vector<std::int64_t> doubled(row);
        doubled.insert(doubled.end(), row.begin(), row.end());
        const auto pickRow = torch::tensor(doubled, torch::kLong).to(device).view({1, 1, 1, -1});
        const auto pick = [&](const torch::Tensor &table) {
            const auto shape = table.sizes().vec();
            return table.gather(0, pickRow.expand({1, shape[1], shape[2], shape[3]})).squeeze(0).to(dtype);
        };
        return {pick(cos), pick(sin)};
    }
    // Channel chunks (sections doubled) take their values from rows temporal, height, width in turn.
    std::vector<std::int64_t> sections;
    for (int rep = 0; rep < 2; ++rep)
        for (const auto s : m_config.mropeSection)
            sections.push_back(s);
    const auto pick = [&](const torch::Tensor &table) {
        const auto chunks = table.split_with_sizes(sections, -1);
        std::vector<torch::Tensor> parts;
        for (std::size_t i = 0; i < chunks.size(); ++i)
            parts.push_back(chunks[i][static_cast<std::int64_t>(i % 3)]);
        return torch::cat(parts, -1).to(dtype);
    };
    return {pick(cos), pick(sin)};
}

torch::Tensor TextDecoderImpl::forward(const torch::Tensor &inputsEmbeds, const torch::Tensor &positionIds,
                                       const torch::Tensor &attentionMask, KVCache *cache, Trace *trace,
                                       const DeepStackInput *deepstack, const torch::Tensor *allowedKeys)
{
    const auto b = inputsEmbeds.size(0), s = inputsEmbeds.size(1);
    const auto device = inputsEmbeds.device();
    if (positionIds.dim() != 3 || positionIds.size(0) != 3 || positionIds.size(1) != b || positionIds.size(2) != s)
        throw InputError("position_ids must have shape [3, batch, length]");
    const auto past = cache ? cache->length() : 0;
    auto keyMask = attentionMask.to(device).to(torch::kBool);
    if (past > 0)
        keyMask = torch::cat({cache->keyMask.to(device), keyMask}, 1);
    // allowed[b, 0, i, j] = key j is real and j <= past + i (causal).
    const auto qIdx = torch::arange(s, torch::TensorOptions().dtype(torch::kLong).device(device)).view({s, 1}) + past;
    const auto kIdx = torch::arange(past + s, torch::TensorOptions().dtype(torch::kLong).device(device)).view({1, -1});
    const auto allowed = allowedKeys ? allowedKeys->to(device, torch::kBool).view({b, 1, s, past + s})
                                     : (kIdx <= qIdx).view({1, 1, s, past + s}) & keyMask.view({b, 1, 1, past + s});
    const auto rope = rotary(positionIds, inputsEmbeds.scalar_type(), device);
    if (cache && cache->keys.empty()) {
        cache->keys.resize(m_layers->size());
        cache->values.resize(m_layers->size());
    }
    auto x = inputsEmbeds;
    const bool recompute = m_checkpointing && !cache && is_training() && torch::GradMode::is_enabled();
    for (std::size_t i = 0; i < m_layers->size(); ++i) {
        const auto layer = m_layers->ptr<DecoderLayerImpl>(i);
        if (recompute)
            x = checkpoint([layer, rope, allowed](const torch::Tensor &in) { return layer->forward(in, rope, allowed, nullptr, nullptr); },
                           x);
        else
            x = layer->forward(x, rope, allowed, cache ? &cache->keys[i] : nullptr, cache ? &cache->values[i] : nullptr);
        record(trace, "decoder_layer." + std::to_string(i), x); // the layer's own output, as transformers' hooks see it
        if (deepstack && i < deepstack->embeds.size()) {
            // Zero everywhere but the visual positions, so the sum leaves text positions bit-identical.
            const auto mask = deepstack->mask.to(device).unsqueeze(-1).expand_as(x);
            x = x + torch::zeros_like(x).masked_scatter(mask, deepstack->embeds[i].to(device, x.scalar_type()));
        }
    }
    if (cache)
        cache->keyMask = keyMask;
    auto out = m_norm(x);
    record(trace, "last_hidden_state", out);
    return out;
}

} // namespace unirank::model
