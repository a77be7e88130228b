// SPDX-License-Identifier: GPL-3.0-or-later
// Private to the scorer's translation units (scorer.cpp, candidate_first.cpp): a pair as prepared for
// the model and the helpers both paths share. Not installed, not for other callers.
#pragma once

#include "core/model/kv_cache.h"
#include "core/scoring/scorer.h"

#include <optional>
#include <string>
#include <vector>

namespace unirank::scoring {

struct Scorer::Prepared {
    std::size_t index = 0;
    CandidateScore result;
    std::vector<std::int32_t> ids; ///< the whole prompt
    std::size_t candidateStart = 0;
    std::size_t queryStart = 0; ///< candidate-first templates: ids before the query (BoundTemplate::PromptIds)
    std::size_t headLength = 0; ///< template text alone (BoundTemplate::PromptIds::headLength)
    bool queryImageFirst = true;
    Image image;
};

/// A query of the query-first path: its pairs and how much of their prompts they share.
struct Scorer::QueryWork {
    Image queryImage;
    std::vector<Prepared> prepared; ///< in the query's candidate order
    std::size_t prefixLength = 0;   ///< ids every pair's prompt starts with, computed once (0: none)
    bool queryImageInPrefix = false;
};

/// One row of a pack or batch: a pair and the query whose prefix it continues.
struct Scorer::Row {
    Prepared *pair = nullptr;
    const QueryWork *query = nullptr;
    std::size_t length() const { return pair->ids.size() - query->prefixLength; } ///< tokens the row computes
};

/// The input of one packed forward (query_first.cpp, candidate_first.cpp): segments of prompts laid
/// one after another in a single row, after `prefixKeys` keys of a cache. Each segment takes the
/// positions it has in its own prompt (from `start`) and attends only to the key ranges it is given
/// and to itself (causally), so its tokens compute what they would in their own prompt.
class Scorer::PackBuilder {
public:
    PackBuilder(const model::Qwen2VL &model, std::int64_t prefixKeys) : m_model(model), m_prefixKeys(prefixKeys) {}
    /// Appends ids[from:to] with its images (in prompt order); `start` [1] is the position of its first
    /// token (undefined: 0); `visible` are [begin, end) key ranges (prefix keys first, then the pack's,
    /// see keyOffset). Returns the segment's index.
    std::size_t add(const std::vector<std::int32_t> &ids, std::size_t from, std::size_t to, const std::vector<const Image *> &images,
                    const torch::Tensor &start, std::vector<std::pair<std::int64_t, std::int64_t>> visible);
    /// Where the segment's keys are (after the prefix keys) and how many.
    std::int64_t keyOffset(std::size_t segment) const { return m_prefixKeys + m_segments[segment].begin; }
    std::int64_t length(std::size_t segment) const { return m_segments[segment].length; }
    /// The position the token after the segment would take (its prompt's continuation).
    const torch::Tensor &nextPosition(std::size_t segment) const { return m_segments[segment].next; }
    std::int64_t tokens() const { return static_cast<std::int64_t>(m_ids.size()); }
    /// ids, positions, allowed keys and images; logits at the last token of each of `scored` segments
    /// (none when it is empty).
    model::ForwardInput input(const std::vector<std::size_t> &scored, std::int32_t positive, std::int32_t negative) const;

private:
    struct Segment {
        std::int64_t begin = 0, length = 0;
        torch::Tensor next;
        std::vector<std::pair<std::int64_t, std::int64_t>> visible;
    };
    const model::Qwen2VL &m_model;
    std::int64_t m_prefixKeys;
    std::vector<std::int64_t> m_ids;
    std::vector<Segment> m_segments;
    std::vector<torch::Tensor> m_positions, m_embeds, m_pixels, m_grids;
};

/// The keys and values one candidate prefix (system + candidate, up to the query) gives, and the pairs
/// that continue it.
struct Scorer::PrefixGroup {
    std::string key;                ///< EmbeddingCache key: weights, prompt ids, image content, preprocessing
    std::vector<std::int32_t> ids;  ///< the prefix ids
    std::size_t headLength = 0;     ///< of which the template's head (PromptIds::headLength)
    const Image *image = nullptr;   ///< the candidate's image (null for text)
    std::vector<Prepared *> pairs;
    model::KVCache kv;
    std::string error;              ///< the prefix could not be computed: every pair of the group fails
};

namespace detail {

/// Tokens per row of ScorerOptions::batchSize that a batch may hold: continuations after a cached prefix
/// are a few tokens, so batches take many more rows than whole prompts do (a GEMM of ~8 short rows
/// runs far below the machine's rate).
inline constexpr std::size_t kTokensPerBatchRow = 96;
/// Stacked prefix keys and values of one batch at most (rows continuing different prefixes).
inline constexpr std::size_t kStackBytes = 256ull << 20;
/// Tokens of one packed forward at most (unless one row is longer): every token's attention scores
/// span the whole pack, so their cost grows with its square.
inline constexpr std::size_t kMaxPackTokens = 1024;
/// Bytes of keys and values per prefix token across the model's layers.
std::size_t kvBytesPerToken(const model::Qwen2VL &model);
/// Sets the forward's images in prompt order: their grids and either every embedding (cached) or
/// every pixel array; throws std::logic_error when both kinds are given.
void setImages(model::ForwardInput &in, const std::vector<torch::Tensor> &grids, const std::vector<torch::Tensor> &embeds,
               const std::vector<torch::Tensor> &pixels);

/// The first line of an exception's text (libtorch appends a stack trace).
std::string firstLine(const std::string &what);
double sigmoid(double x);
/// The preprocessing parameters and dtype an image's embeddings depend on (part of cache keys).
std::string processorKey(const vision::ImageProcessorConfig &c, torch::ScalarType dtype);

} // namespace detail

} // namespace unirank::scoring
