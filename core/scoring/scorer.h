// SPDX-License-Identifier: GPL-3.0-or-later
// The hybrid scorer: one calibrated relevance score for a (query, candidate) pair, where the candidate
// is text (text tokens), an image (vision tower) or both, never converted into the other modality
// (except in the explicit text-as-image baseline).
//
// Score: at the answer position, the logits of the template's two label tokens only (never the whole
// vocabulary): margin = l_pos - l_neg, probability = P(pos) / (P(pos) + P(neg)) = sigmoid(margin),
// calibrated = sigmoid(margin / temperature).
//
// Prompts are tokenized whole, as transformers does (see BoundTemplate). The shared prefix is the
// longest run of ids every candidate's prompt starts with, ending before any candidate's first
// character, so caching never changes a token.
// Speed: the query prefix is computed once per query (KVCache) after the template's head (system
// turn and instruction, the same for every query: once per model), image embeddings come from an
// EmbeddingCache when given, and the pairs of a few queries at a time are batched by length, each row
// continuing its own query's prefix (stacked), with left padding that masking makes invisible to the
// real tokens: batches of a few hundred rows' tokens keep the matrix products near the machine's rate.
// Candidate-first templates (the query after the candidate, MonoQwen2-VL's layout): the prompt up to
// the query depends on the candidate alone, so its keys and values are computed once per candidate
// and reused by every query whose list holds it: within one scoreQueries() call (pairs are scheduled
// candidate by candidate) and across calls through ScorerOptions::candidateCache (memory and disk,
// bounded, keyed by weights, prompt ids, image content and preprocessing). Each pair then computes
// only the query and the generation prompt.
//
// Threading: a ScoringModel is loaded once and shared read-only (its weights never change while a
// Scorer uses it; its template-head cache is thread-safe); a Scorer is per thread and per request. Guards (inference mode) are created inside scoreQuery.
// Errors: per-candidate problems (missing or corrupt image, empty text, too many pixels, a forward
// that fails, e.g. out of memory: the batch is retried one candidate at a time) are returned in
// CandidateScore::error; scoreQuery throws Cancelled when asked to stop, InputError for a bad query.
#pragma once

#include "core/model/loader.h"
#include "core/scoring/embedding_cache.h"
#include "core/scoring/prompt_template.h"
#include "core/scoring/template_head.h"
#include "core/scoring/weights_hash.h"
#include "core/text/tokenizer.h"
#include "core/vision/image_preprocess.h"

#include <atomic>
#include <functional>
#include <memory>

namespace unirank::scoring {

/// Pixel limits of images. They set an image's visual tokens, and so its score: a score run records
/// the limits it used. 0 means the default: the model folder's preprocessor limits, with the maximum
/// capped at kDefaultMaxPixels.
struct PixelBudget {
    std::int64_t minPixels = 0;
    std::int64_t maxPixels = 0;
};

/// 1280 visual tokens (1,003,520 pixels), the limit Qwen2-VL's authors recommend for a single GPU and
/// the transformers class default: a 300-dpi letter sheet becomes ~1280 tokens instead of the ~16,000
/// that a Hub preprocessor's 12.8 MP would give (seconds instead of minutes per pair on a laptop CPU).
inline constexpr std::int64_t kDefaultMaxPixels = 1280 * 28 * 28;

struct ScoringModel {
    model::Qwen2VL model{nullptr};
    std::shared_ptr<const text::Tokenizer> tokenizer;
    vision::ImageProcessorConfig imageConfig;       ///< in effect (the folder's, within the pixel budget)
    vision::ImageProcessorConfig folderImageConfig; ///< as the model folder states it
    std::unique_ptr<BoundTemplate> prompt;
    std::string weightsHash;     ///< identifies the weights in use: the base's hash, combined with the adapter's
    std::string baseWeightsHash; ///< sha256 over the base model's weight files alone
    std::filesystem::path folder;
    bool int8 = false; ///< the language model's projections run in dynamic int8 (useInt8)
    /// The prompt template's head, computed once for every Scorer of this model (template_head.h).
    std::shared_ptr<TemplateHeadCache> templateHead = std::make_shared<TemplateHeadCache>();
};

/// Quantizes the language model's projections to dynamic int8 (model/int8_linear.h) and gives the
/// weights another identity (the caches must not mix int8 and float keys and values). CPU, float32.
/// Throws InputError when this libtorch cannot.
void useInt8(ScoringModel &model);

/// The image processor a model of this family uses when its folder has no preprocessor_config.json:
/// the family's Hub settings with the tower's patch, frame and merge sizes.
vision::ImageProcessorConfig familyImageDefaults(const model::Qwen2VLConfig &config);

/// Sets `model.imageConfig` from its folder's limits and `budget` (explicit values win). Throws
/// InputError when the minimum exceeds the maximum or is below one merged patch.
void applyPixelBudget(ScoringModel &model, const PixelBudget &budget);


/// Loads a model folder (config.json, weights, tokenizer.json, optional preprocessor_config.json and
/// unirank_prompt.json); an adapter folder (PEFT LoRA) is merged into the weights when given. A
/// preprocessor whose patch, frame or merge size differs from the vision tower's is refused by name.
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

/// Bounds of a project's candidate-prefix cache (ScorerOptions::candidateCache): at Qwen2-VL-2B's
/// full depth a prefix takes 57 KB per token (28 layers x keys and values x 2 KV heads x 128 x fp32),
/// so a 300-token drawing takes 17 MB.
inline constexpr std::size_t kCandidateCacheMemory = 1ull << 30;
inline constexpr std::uintmax_t kCandidateCacheDisk = 8ull << 30;

struct ScorerOptions {
    /// Rows of whole prompts per batch. A batch holds up to batchSize x 96 tokens of rows: continuations
    /// after a cached prefix are short, so it takes more of them (and rows of several queries).
    std::int64_t batchSize = 8;
    bool prefixCache = true;
    bool textAsImage = false; ///< the baseline: text candidates rendered to images
    vision::DecodeLimits limits;
    std::shared_ptr<EmbeddingCache> imageCache; ///< may be null
    /// Candidate-first templates: reuse each candidate's keys and values (false: every pair computes its
    /// whole prompt after the shared head, the path before candidate-first caching).
    bool candidateReuse = true;
    /// Candidate-first templates: keys and values of candidate prefixes across calls; may be null.
    std::shared_ptr<EmbeddingCache> candidateCache = nullptr;
    int threads = 0; ///< intra-op threads of the scoring worker (ScoringJob); 0: libtorch's default
};

struct Cancelled : std::exception {
    const char *what() const noexcept override { return "cancelled"; }
};

/// Returns true when the work should stop; checked before every batch.
using CancelCheck = std::function<bool()>;
/// Work done so far, in queries (a fraction of the pairs when several queries are scored together).
using ScoreProgress = std::function<void(std::size_t done, std::size_t total)>;

/// What the last call computed with a candidate-first template.
struct CandidateFirstStats {
    std::size_t pairs = 0;
    std::size_t prefixes = 0;      ///< distinct candidate prefixes the pairs needed
    std::size_t prefixHits = 0;    ///< of which came from ScorerOptions::candidateCache
    std::size_t prefixTokens = 0;  ///< tokens computed in candidate prefixes (misses only)
    std::size_t pairTokens = 0;    ///< tokens computed per pair (query and generation prompt), summed
};

/// Batches the last query-first call ran.
struct BatchStats {
    std::size_t batches = 0;
    std::size_t rows = 0;
    std::size_t stacked = 0;     ///< batches whose rows continue the prefixes of several queries
    std::size_t headTokens = 0;  ///< template-head tokens computed (0 when the model kept its head)
    std::size_t queryTokens = 0; ///< tokens of the queries' own parts of their prefixes, once per batch
};

class Scorer {
public:
    Scorer(std::shared_ptr<ScoringModel> model, ScorerOptions options);

    /// Scores every candidate of the query; results in the candidates' order.
    std::vector<CandidateScore> scoreQuery(const ScoringQuery &query, const CancelCheck &cancelled = {});
    /// Scores every query's list; per query, results in its candidates' order. With a candidate-first
    /// template the pairs are scheduled candidate by candidate, so a candidate in many lists costs its
    /// prefix once; otherwise query by query.
    std::vector<std::vector<CandidateScore>> scoreQueries(const std::vector<ScoringQuery> &queries,
                                                          const CancelCheck &cancelled = {},
                                                          const ScoreProgress &progress = {});
    /// Whether scoreQueries() / scoreQuery() take the candidate-first path with this model and options.
    bool reusesCandidates() const;
    const CandidateFirstStats &lastCandidateFirstStats() const { return m_candidateStats; }
    const BatchStats &lastBatchStats() const { return m_batchStats; }

    /// The reference path for tests: one pair, full prompt, no cache of any kind, no batching.
    CandidateScore scoreSinglePair(const ScoringQuery &query, const ScoringCandidate &candidate);

private:
    struct Prepared;
    struct Image {
        torch::Tensor embeds, pixels, grid; ///< embeds only when computed through the cache path
        std::int64_t tokens = 0;
        std::string hash; ///< content hash, where the candidate-first path needs it
    };
    /// One image file; throws InputError (or what the vision tower threw) when it cannot be encoded.
    Image encodeImage(const std::filesystem::path &file, std::string hash, bool useCache);
    struct ImageJob {
        std::filesystem::path file;
        std::string hash; ///< content hash when known (else computed for the cache key)
    };
    struct EncodedImage {
        Image image;
        std::string error; ///< empty when encoded
        bool inputError = false;
    };
    /// The cache path for many images (image_encoding.cpp): a cache hit skips decoding and resizing
    /// (its grid follows from the header and the pixel budget); misses are decoded and preprocessed on
    /// a few threads, a chunk at a time (bounded memory), then go through the vision tower here.
    std::vector<EncodedImage> encodeImages(const std::vector<ImageJob> &jobs);
    Image encodeRgb(const std::vector<std::uint8_t> &rgb, int width, int height, bool useCache);
    /// `lookedUp`: the cache was already asked for this image (and missed).
    Image finishImage(const vision::PreprocessedImage &image, const std::string &hash, bool useCache, bool lookedUp);
    std::optional<torch::Tensor> cachedEmbeddings(const std::string &hash, std::int64_t tokens);
    /// `encoded`: the candidate's image, already encoded (else encoded here).
    Prepared prepare(const std::string &queryText, std::int64_t queryImageTokens, const ScoringCandidate &candidate,
                     bool useCache, const Image *encoded = nullptr);
    /// Runs `in` (rows left-padded to `length`, continuing `cache` when given) and sets each row's
    /// margin, probability and calibrated score from the two label logits at the last position.
    void scoreRows(model::ForwardInput &in, std::int64_t length, model::KVCache *cache, const std::vector<Prepared *> &rows);
    struct PrefixGroup;
    std::vector<std::vector<CandidateScore>> scoreCandidateFirst(const std::vector<ScoringQuery> &queries,
                                                                 const CancelCheck &cancelled, const ScoreProgress &progress);
    /// Keys and values of these candidate prefixes (cache hits, else computed in length-sorted batches).
    void computePrefixes(std::vector<PrefixGroup *> &groups, const CancelCheck &cancelled);
    /// One batch of candidate-first pairs: each row continues its candidate's prefix with the query.
    void runContinuations(std::vector<Prepared *> &rows, const std::vector<const PrefixGroup *> &groups,
                          const std::vector<const Image *> &queryImages);
    // The query-first path (query_first.cpp).
    struct QueryWork;
    struct Row;
    std::vector<std::vector<CandidateScore>> scoreQueryFirst(const std::vector<ScoringQuery> &queries,
                                                             const CancelCheck &cancelled, const ScoreProgress &progress);
    /// A query's images encoded, its pairs prepared and the length of its shared prefix found.
    QueryWork startQuery(const ScoringQuery &query, const CancelCheck &cancelled);
    class PackBuilder;
    /// Scores the ok pairs of these queries in packs of up to batchSize x 96 tokens (query_first.cpp).
    void runChunk(std::vector<QueryWork> &chunk, const CancelCheck &cancelled);
    /// One packed forward after the template head: each query's part of its prefix once, then each
    /// row's `ids[prefixLength:]` (whole prompts without a prefix). A query's image goes into its
    /// rows unless its prefix holds it.
    void runPack(const std::vector<Row> &rows, const TemplateHeadCache::Head &head);
    /// runPack; when it fails (memory, say), each candidate alone, so a failure stays with its candidate.
    void runPackOrEach(const std::vector<Row> &rows, const TemplateHeadCache::Head &head);
    /// The reference path's forward: whole rows of one query, left-padded, no cache.
    void runBatch(const std::vector<Row> &batch);

    /// Keys and values of the template's head, at most the first `length` of `ids` (the model's
    /// TemplateHeadCache; computed here when it has none that fits).
    TemplateHeadCache::Head templateHead(const std::vector<std::int32_t> &ids, std::size_t length);

    std::shared_ptr<ScoringModel> m_model;
    ScorerOptions m_options;
    std::size_t m_lastPrefixTokens = 0;
    std::size_t m_prefixTokensComputed = 0;
    CandidateFirstStats m_candidateStats;
    BatchStats m_batchStats;

public:
    /// The length of the last scoreQuery()'s shared prefix (0 without a prefix cache).
    std::size_t lastPrefixTokens() const { return m_lastPrefixTokens; }
    /// Tokens this Scorer computed in shared prefixes so far: the template head when the model had none
    /// yet, then each query's rest of its prefix (what a benchmark counts as the prefixes' work).
    std::size_t prefixTokensComputed() const { return m_prefixTokensComputed; }
};

} // namespace unirank::scoring
