// SPDX-License-Identifier: GPL-3.0-or-later
// Private to the scorer's translation units (scorer.cpp, candidate_first.cpp): a pair as prepared for
// the model and the helpers both paths share. Not installed, not for other callers.
#pragma once

#include "core/model/kv_cache.h"
#include "core/scoring/scorer.h"

#include <string>
#include <vector>

namespace unirank::scoring {

struct Scorer::Prepared {
    std::size_t index = 0;
    CandidateScore result;
    std::vector<std::int32_t> ids; ///< the whole prompt
    std::size_t candidateStart = 0;
    std::size_t queryStart = 0; ///< candidate-first templates: ids before the query (BoundTemplate::PromptIds)
    bool queryImageFirst = true;
    Image image;
};

/// The keys and values one candidate prefix (system + candidate, up to the query) gives, and the pairs
/// that continue it.
struct Scorer::PrefixGroup {
    std::string key;                ///< EmbeddingCache key: weights, prompt ids, image content, preprocessing
    std::vector<std::int32_t> ids;  ///< the prefix ids
    const Image *image = nullptr;   ///< the candidate's image (null for text)
    std::vector<Prepared *> pairs;
    model::KVCache kv;
    std::string error;              ///< the prefix could not be computed: every pair of the group fails
};

namespace detail {

/// The first line of an exception's text (libtorch appends a stack trace).
std::string firstLine(const std::string &what);
double sigmoid(double x);
/// The preprocessing parameters and dtype an image's embeddings depend on (part of cache keys).
std::string processorKey(const vision::ImageProcessorConfig &c, torch::ScalarType dtype);

} // namespace detail

} // namespace unirank::scoring
