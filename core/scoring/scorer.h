// SPDX-License-Identifier: GPL-3.0-or-later
// The hybrid scorer: one calibrated relevance score for a (query, candidate) pair, where the candidate
// is text (text tokens), an image (vision tower) or both, never converted into the other modality
// (except in the explicit text-as-image baseline).
//
// Score: at the answer position, the logits of the template's two label tokens only (never the whole
// vocabulary): margin = l_pos - l_neg, probability = P(pos) / (P(pos) + P(neg)) = sigmoid(margin),
// calibrated = sigmoid(margin / temperature).
//
// Speed: the query prefix is computed once per query (KVCache, shared by every batch), image
// embeddings come from an EmbeddingCache when given, and candidates are batched by prompt length with
// left padding inside the candidate part, which masking makes invisible to the real tokens.
//
// Threading: a ScoringModel is loaded once and shared read-only; a Scorer is per thread (it holds no
// state across calls besides its options). Guards (inference mode) are created inside scoreQuery.
// Errors: per-candidate problems (missing or corrupt image, empty text, too many pixels) are returned
// in CandidateScore::error; scoreQuery throws Cancelled when asked to stop, InputError for a bad query.
#pragma once

#include "core/model/loader.h"
#include "core/scoring/embedding_cache.h"
#include "core/scoring/prompt_template.h"
#include "core/text/tokenizer.h"
#include "core/vision/image_preprocess.h"

#include <atomic>
#include <functional>
#include <memory>

namespace unirank::scoring {

struct ScoringModel {
    model::Qwen2VL model{nullptr};
    std::shared_ptr<const text::Tokenizer> tokenizer;
    vision::ImageProcessorConfig imageConfig;
    std::unique_ptr<BoundTemplate> prompt;
    std::string weightsHash;     ///< identifies the weights in use: the base's hash, combined with the adapter's
    std::string baseWeightsHash; ///< sha256 over the base model's weight files alone
    std::filesystem::path folder;
};

/// sha256 over a model or adapter folder's .safetensors files.
std::string weightsHashOf(const std::filesystem::path &folder);

/// Loads a model folder (config.json, weights, tokenizer.json, optional preprocessor_config.json and
/// unirank_prompt.json); an adapter folder (PEFT LoRA) is merged into the weights when given.
Result<std::shared_ptr<ScoringModel>> loadScoringModel(const std::filesystem::path &folder,
                                                       const model::LoadOptions &options = {},
                                                       const std::filesystem::path &adapter = {});

struct ScoringCandidate {
    std::string id;
    std::string text;
    std::filesystem::path image; ///< absolute path; empty for text candidates
    std::string imageHash;       ///< sha256 of the file when known (else computed when caching)
};

struct ScoringQuery {
    std::string id;
    std::string text;
    std::vector<ScoringCandidate> candidates;
    std::filesystem::path image = {}; ///< a query image (e.g. a design-patent drawing); empty for none
    std::string imageHash = {};
};

struct CandidateScore {
    std::string candidateId;
    std::string error; ///< empty when scored
    double margin = 0, probability = 0, calibrated = 0;
    std::int64_t promptTokens = 0; ///< candidate-specific tokens (text + image tokens + prompt tail)
    std::int64_t imageTokens = 0;
    bool truncated = false;
    bool ok() const { return error.empty(); }
};

struct ScorerOptions {
    std::int64_t batchSize = 8;
    bool prefixCache = true;
    bool textAsImage = false; ///< the baseline: text candidates rendered to images
    vision::DecodeLimits limits;
    std::shared_ptr<EmbeddingCache> imageCache; ///< may be null
    int threads = 0; ///< intra-op threads of the scoring worker (ScoringJob); 0: libtorch's default
};

struct Cancelled : std::exception {
    const char *what() const noexcept override { return "cancelled"; }
};

/// Returns true when the work should stop; checked before every batch.
using CancelCheck = std::function<bool()>;

class Scorer {
public:
    Scorer(std::shared_ptr<ScoringModel> model, ScorerOptions options);

    /// Scores every candidate of the query; results in the candidates' order.
    std::vector<CandidateScore> scoreQuery(const ScoringQuery &query, const CancelCheck &cancelled = {});

    /// The reference path for tests: one pair, full prompt, no cache of any kind, no batching.
    CandidateScore scoreSinglePair(const ScoringQuery &query, const ScoringCandidate &candidate);

private:
    struct Prepared;
    struct Image {
        torch::Tensor embeds, pixels, grid; ///< embeds only when computed through the cache path
        std::int64_t tokens = 0;
    };
    Image encodeImage(const std::filesystem::path &file, std::string hash, bool useCache);
    Image encodeRgb(const std::vector<std::uint8_t> &rgb, int width, int height, bool useCache);
    Image finishImage(const vision::PreprocessedImage &image, const std::string &hash, bool useCache);
    Prepared prepare(const std::string &queryText, const ScoringCandidate &candidate, bool useCache);
    /// Without a prefix cache each row is prefix + candidate, and `queryImage` (when it has tokens)
    /// comes first in every row.
    void runBatch(const std::vector<std::int32_t> &prefix, const model::KVCache *prefixCache, const Image &queryImage,
                  std::vector<Prepared *> &batch);

    std::shared_ptr<ScoringModel> m_model;
    ScorerOptions m_options;
};

} // namespace unirank::scoring
