// SPDX-License-Identifier: GPL-3.0-or-later
// Turns training examples into model inputs with the scorer's own prompt (the same template, label
// tokens and image preprocessing), so what is trained is exactly what is scored: the full prompt ids
// (query prefix, optional query image, candidate, generation prompt) and the images' grids, then
// batches of them, left-padded, with the answer position as the only logit position.
//
// Memory: an image's pixel values are kept in a byte-bounded LRU cache (pixelCacheBytes; least
// recently used evicted) and preprocessed again on a miss, so a training set of many large drawings
// holds at most the bound; only each image's grid and token count (a few bytes) are kept for all.
// Batches carry image keys, not pixels: the policy fetches pixels only for images whose embeddings
// it must compute (trainable_policy.h).
//
// Threading: one encoder per training thread. Errors: InputError for an unreadable image or an empty
// candidate (the trainer reports and skips such items), also when an image cached before can no
// longer be read.
#pragma once

#include "core/data/training_examples.h"
#include "core/scoring/embedding_cache.h"
#include "core/scoring/scorer.h"

#include <map>

namespace unirank::training {

struct EncodedPair {
    std::vector<std::int32_t> ids;
    std::vector<torch::Tensor> grids;   ///< [1, 3] each, per image in prompt order
    std::vector<std::string> imageKeys; ///< the images' files, in the same order (PairEncoder::pixels)
    int label = 0;
    int grade = -1;
    std::size_t group = 0; ///< index of the query group
    std::string candidateId;
};

/// Pixel values a trainer keeps in memory by default: about 20 images at the default 1 MP budget.
inline constexpr std::size_t kDefaultPixelCacheBytes = std::size_t(512) << 20;

class PairEncoder {
public:
    explicit PairEncoder(std::shared_ptr<scoring::ScoringModel> model, std::size_t pixelCacheBytes = kDefaultPixelCacheBytes);
    EncodedPair encode(const TrainGroup &group, const TrainItem &item, std::size_t groupIndex);

    /// The pixel values [patches, features] of an image key of an encoded pair: from the cache, or
    /// preprocessed again.
    torch::Tensor pixels(const std::string &key);

    struct Stats {
        std::size_t preprocessed = 0; ///< images preprocessed (first sight and cache misses)
        std::size_t cachedBytes = 0;  ///< pixel bytes held now
    };
    Stats stats() const;

private:
    struct Image {
        torch::Tensor grid;
        std::int64_t tokens = 0;
    };
    const Image &image(const std::filesystem::path &file);
    torch::Tensor preprocess(const std::filesystem::path &file, Image *info);

    std::shared_ptr<scoring::ScoringModel> m_model;
    std::map<std::string, Image> m_images;
    scoring::EmbeddingCache m_pixels; ///< a byte-bounded LRU of tensors, here pixel values
    std::size_t m_preprocessed = 0;
};

struct Batch {
    model::ForwardInput input;        ///< ids, mask, grids and logit positions; no pixels (see above)
    torch::Tensor labels;             ///< [B] int64, 1 = yes
    std::vector<std::size_t> groups;  ///< per row
    std::vector<const EncodedPair *> pairs;
};

/// Left-pads the rows; logits at the last position, restricted to {negative, positive} label ids when
/// `labelTokensOnly`. Image grids are concatenated in row order (as the model's forward expects).
Batch makeBatch(const std::vector<const EncodedPair *> &pairs, const scoring::BoundTemplate &prompt,
                bool labelTokensOnly, torch::Device device);

} // namespace unirank::training
