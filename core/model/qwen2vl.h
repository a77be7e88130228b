// SPDX-License-Identifier: GPL-3.0-or-later
// Qwen2VLForConditionalGeneration and its successors Qwen2_5_VL... and Qwen3VL... (one class; the
// family is in the config): vision tower + decoder + LM head (tied to the embedding or its own
// `lm_head.weight`). Module names match the checkpoints of the 2024 hub layout: `visual.*`,
// `model.*`, `lm_head.weight` (the loader maps the transformers >= 4.52 / Qwen3-VL layout
// `model.visual.*`, `model.language_model.*` onto these, and saves each family in its own).
//
// Weights vs state (whisper.cpp's context/state split): a loaded Qwen2VL holds only weights and is
// shared read-only by any number of requests; everything a request owns (KVCache, Trace, outputs) is
// passed in. forward() computes logits only at the positions asked for, never the whole vocabulary at
// every position unless asked.
//
// Threading: concurrent forwards are safe while nobody trains the same instance; grad mode is the
// caller's (create torch::NoGradGuard / InferenceMode in the worker thread).
// Errors: InputError for inconsistent inputs (image tokens vs grids, shapes).
#pragma once

#include "core/model/config.h"
#include "core/model/kv_cache.h"
#include "core/model/rope_index.h"
#include "core/model/text_decoder.h"
#include "core/model/trace.h"
#include "core/model/vision_tower.h"

#include <torch/torch.h>

namespace unirank::model {

class Qwen2VLImpl : public torch::nn::Module {
public:
    explicit Qwen2VLImpl(const Qwen2VLConfig &config);

    const Qwen2VLConfig &config() const { return m_config; }
    VisionTower &visual() { return m_visual; }
    TextDecoder &decoder() { return m_model; }

    /// [B, S] ids -> [B, S, H], with the rows of `imageEmbeds` scattered, in order, into the
    /// <|image_pad|> slots (their count must match).
    torch::Tensor embed(const torch::Tensor &inputIds, const torch::Tensor &imageEmbeds);
    /// hidden [..., H] -> logits [..., V] with the LM head (the embedding matrix when tied).
    torch::Tensor lmHead(const torch::Tensor &hidden);
    torch::Tensor lmHeadWeight();

    torch::Device device() const;
    torch::ScalarType dtype() const;

private:
    Qwen2VLConfig m_config;
    VisionTower m_visual{nullptr};
    TextDecoder m_model{nullptr};
    LoraLinear m_lmHead{nullptr}; ///< null when tied
};
TORCH_MODULE(Qwen2VL);

struct ForwardInput {
    torch::Tensor inputIds = {};       ///< [B, S] int64
    torch::Tensor attentionMask = {};  ///< [B, S] (1 = real); undefined = all real
    torch::Tensor pixelValues = {};    ///< [P, C*T*p*p] or undefined when there are no images
    torch::Tensor imageGridThw = {};   ///< [n, 3] int64 or undefined
    torch::Tensor imageEmbeds = {};    ///< [tokens, H] precomputed (cached) image embeddings, instead of pixelValues
    torch::Tensor positionIds = {};    ///< [3, B, S]; undefined = computed (get_rope_index semantics)
    /// [B, S, past + S] bool: the keys (a cache's, then this input's) each token may attend. Undefined =
    /// causal over the real keys. With it, several sequences can share one row (packed, each attending
    /// to its own keys only) given their positionIds.
    torch::Tensor allowedKeys = {};
    /// Which logits to return: undefined = none; [B, K] int64 position indices (e.g. the last real
    /// token of each row). Use allPositions() only where every position is needed (training, parity).
    torch::Tensor logitPositions = {};
    /// Restricts the returned logits to these vocabulary ids ([T] int64), e.g. a reranker's two label
    /// tokens: the LM head then multiplies by T rows instead of the whole vocabulary, in float32 even
    /// for a bf16 model (a bf16 margin moves in steps of 1/16 to 1/8 and ties).
    torch::Tensor logitTokens = {};
    bool keepHidden = false; ///< return the final hidden states of every position
};

struct ForwardOutput {
    torch::Tensor logits;      ///< [B, K, V] at logitPositions (float32 when the model is float32)
    torch::Tensor hidden;      ///< [B, S, H] when keepHidden
    torch::Tensor positionIds = {}; ///< [3, B, S] used
    torch::Tensor ropeDeltas;  ///< [B, 1]
};

/// [B, S] indices 0..S-1 for ForwardInput::logitPositions.
torch::Tensor allPositions(std::int64_t batch, std::int64_t length);
/// [B, 1] index of the last real token per row (attention mask 1).
torch::Tensor lastRealPositions(const torch::Tensor &attentionMask);

/// One forward pass. With a cache, `input` is the continuation of what the cache holds (positions
/// continue from cache->nextPosition) and the cache is extended in place.
ForwardOutput forward(Qwen2VL &model, const ForwardInput &input, KVCache *cache = nullptr, Trace *trace = nullptr);

} // namespace unirank::model
