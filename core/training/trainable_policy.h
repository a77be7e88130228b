// SPDX-License-Identifier: GPL-3.0-or-later
// The model a trainer updates, shared by instruction tuning and alignment: LoRA adapters (fresh, or
// read from a PEFT folder to continue training it) or every text weight (full_finetune); the list of
// trainable tensors; the forward of a batch with frozen image embeddings cached (unless the vision
// tower is adapted; the cache is byte-bounded, least recently used evicted, kEmbeddingCacheBytes);
// and writing its files (PEFT folder, or a full model folder under `model/`).
//
// Threading: the training thread only. Ownership: holds the ScoringModel it trains (load a private
// one). Errors: InputError for an unreadable adapter or checkpoint.
#pragma once

#include "core/model/lora.h"
#include "core/scoring/scorer.h"
#include "core/training/pair_encoder.h"
#include "core/training/training_arguments.h"

#include <filesystem>
#include <map>

namespace unirank::training {

class TrainablePolicy {
public:
    /// Frozen image embeddings kept in memory by default: ~60 images of 1280 tokens at 2B width in float32.
    static constexpr std::size_t kEmbeddingCacheBytes = std::size_t(512) << 20;

    TrainablePolicy(std::shared_ptr<scoring::ScoringModel> model, std::string baseModel,
                    std::size_t embeddingCacheBytes = kEmbeddingCacheBytes);

    /// Freezes the model, then makes the trainable part: with `from` empty, fresh adapters (seeded by
    /// args.seed; r, lora_alpha, lora_dropout, target_modules from args) or the text weights; otherwise
    /// the adapter (which keeps its own adapter_config.json settings) or full checkpoint (`from/model`).
    void setup(const TrainingArguments &args, const std::filesystem::path &from);

    std::vector<torch::Tensor> &parameters() { return m_params; }
    scoring::ScoringModel &scoring() { return *m_model; }
    std::shared_ptr<scoring::ScoringModel> shared() const { return m_model; }
    model::Qwen2VL &model() { return m_model->model; }
    /// Sets the dropout of every adapter to 0 for training (the saved adapter config keeps its value).
    void disableAdapterDropout();

    /// Logits of the batch (as its ForwardInput asks). Its images come from `images` (the encoder that
    /// encoded its pairs): as embeddings from the cache when the vision tower is frozen (pixels are
    /// fetched only on a miss), as pixel values otherwise.
    torch::Tensor logits(Batch &batch, PairEncoder &images);
    /// l_yes - l_no per row of a label-token batch ([B]).
    torch::Tensor margins(Batch &batch, PairEncoder &images);
    scoring::EmbeddingCache::Stats embeddingCacheStats() const { return m_embeds.stats(); }

    void writeModelFiles(const std::filesystem::path &folder);

private:
    std::shared_ptr<scoring::ScoringModel> m_model;
    std::string m_base;
    bool m_full = false;
    bool m_visionTrainable = false;
    model::LoraConfig m_lora;
    std::vector<torch::Tensor> m_params;
    scoring::EmbeddingCache m_embeds; ///< frozen vision: image key -> embeddings
};

} // namespace unirank::training
