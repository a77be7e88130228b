// SPDX-License-Identifier: GPL-3.0-or-later
// Turns training examples into model inputs with the scorer's own prompt (the same template, label
// tokens and image preprocessing), so what is trained is exactly what is scored: the full prompt ids
// (query prefix, optional query image, candidate, generation prompt) and the pixel values of the query
// and candidate images, then batches of them, left-padded, with the answer position as the only
// logit position.
//
// Threading: one encoder per training thread (it caches preprocessed images). Errors: InputError for
// an unreadable image or an empty candidate (the trainer reports and skips such items).
#pragma once

#include "core/data/training_examples.h"
#include "core/scoring/scorer.h"

#include <map>

namespace unirank::training {

struct EncodedPair {
    std::vector<std::int32_t> ids;
    std::vector<torch::Tensor> pixels; ///< per image, in prompt order (query image first)
    std::vector<torch::Tensor> grids;  ///< [1, 3] each
    std::vector<std::string> imageKeys; ///< cache keys of the images (path)
    int label = 0;
    int grade = -1;
    std::size_t group = 0; ///< index of the query group
    std::string candidateId;
};

class PairEncoder {
public:
    explicit PairEncoder(std::shared_ptr<scoring::ScoringModel> model);
    EncodedPair encode(const TrainGroup &group, const TrainItem &item, std::size_t groupIndex);

private:
    struct Image {
        torch::Tensor pixels, grid;
        std::int64_t tokens = 0;
    };
    const Image &image(const std::filesystem::path &file);

    std::shared_ptr<scoring::ScoringModel> m_model;
    std::map<std::string, Image> m_images;
};

struct Batch {
    model::ForwardInput input;
    torch::Tensor labels;             ///< [B] int64, 1 = yes
    std::vector<std::size_t> groups;  ///< per row
    std::vector<const EncodedPair *> pairs;
};

/// Left-pads the rows; logits at the last position, restricted to {negative, positive} label ids when
/// `labelTokensOnly`. Image pixels are concatenated in row order (as the model's forward expects).
Batch makeBatch(const std::vector<const EncodedPair *> &pairs, const scoring::BoundTemplate &prompt,
                bool labelTokensOnly, torch::Device device);

} // namespace unirank::training
