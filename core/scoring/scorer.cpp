// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/scoring/scorer.h"
#include "core/scoring/scorer_internal.h"

#include "core/model/int8_linear.h"
#include "core/model/lora.h"
#include "core/model/qwen2vl.h"
#include "core/util/sha256.h"
#include "core/vision/text_render.h"

#include <algorithm>
#include <cmath>
#include <numeric>

namespace fs = std::filesystem;

namespace unirank::scoring {

using detail::firstLine;
using detail::processorKey;
using detail::sigmoid;

Result<std::shared_ptr<ScoringModel>> loadScoringModel(const fs::path &folder, const model::LoadOptions &options,
                                                       const fs::path &adapter)
{
    auto loaded = model::loadQwen2VL(folder, options);
    if (!loaded)
        return std::unexpected(loaded.error());
    auto sm = std::make_shared<ScoringModel>();
    sm->model = *loaded;
    sm->folder = folder;
    if (!adapter.empty()) {
        auto merged = model::mergeLoraAdapter(sm->model, adapter);
        if (!merged)
            return std::unexpected(merged.error());
    }
    auto tokenizer = text::Tokenizer::load(folder / "tokenizer.json");
    if (!tokenizer)
        return std::unexpected(tokenizer.error());
    sm->tokenizer = *tokenizer;
    std::error_code ec;
    const auto &vc = sm->model->config().vision;
    sm->folderImageConfig = familyImageDefaults(sm->model->config());
    if (fs::exists(folder / "preprocessor_config.json", ec)) {
        auto proc = vision::ImageProcessorConfig::load(folder / "preprocessor_config.json");
        if (!proc)
            return std::unexpected(proc.error());
        sm->folderImageConfig = *proc;
        // Patches the tower was not built for would fail deep in the forward; say so at load.
        const auto mismatch = [&](const char *key, std::int64_t processor, const char *modelKey, std::int64_t model) {
            return Error{ErrorKind::BadInput, (folder / "preprocessor_config.json").string() + ": " + key + " " +
                                                  std::to_string(processor) + " does not match config.json's vision_config." +
                                                  modelKey + " " + std::to_string(model)};
        };
        if (proc->patchSize != vc.patchSize)
            return std::unexpected(mismatch("patch_size", proc->patchSize, "patch_size", vc.patchSize));
        if (proc->temporalPatchSize != vc.temporalPatchSize)
            return std::unexpected(mismatch("temporal_patch_size", proc->temporalPatchSize, "temporal_patch_size", vc.temporalPatchSize));
        if (proc->mergeSize != vc.spatialMergeSize)
            return std::unexpected(mismatch("merge_size", proc->mergeSize, "spatial_merge_size", vc.spatialMergeSize));
    }
    try {
        applyPixelBudget(*sm, {});
    } catch (const InputError &e) {
        return std::unexpected(Error{ErrorKind::BadInput, e.what()});
    }
    auto tmpl = !adapter.empty() && fs::exists(adapter / "unirank_prompt.json", ec)
                    ? PromptTemplate::load(adapter / "unirank_prompt.json")
                    : PromptTemplate::forModelFolder(folder);
    if (!tmpl)
        return std::unexpected(tmpl.error());
    const auto &tok = sm->model->config().tokens;
    try {
        sm->prompt = std::make_unique<BoundTemplate>(*tmpl, sm->tokenizer, static_cast<std::int32_t>(tok.imageToken),
                                                     static_cast<std::int32_t>(tok.visionStart),
                                                     static_cast<std::int32_t>(tok.visionEnd));
        sm->baseWeightsHash = weightsHashOf(folder); // cached per folder (weights_hash.h)
        sm->weightsHash = adapter.empty() ? sm->baseWeightsHash
                                          : sha256Hex(sm->baseWeightsHash + "+" + weightsHashOf(adapter));
    } catch (const InputError &e) {
        return std::unexpected(Error{ErrorKind::BadInput, e.what()});
    }
    return sm;
}

void useInt8(ScoringModel &sm)
{
    if (sm.int8)
        return;
    model::quantizeLanguageModelInt8(sm.model);
    sm.int8 = true;
    sm.weightsHash = sha256Hex(sm.weightsHash + "+int8-dynamic");
}

vision::ImageProcessorConfig familyImageDefaults(const model::Qwen2VLConfig &config)
{
    vision::ImageProcessorConfig c; // Qwen2-VL's and Qwen2.5-VL's: patch 14, CLIP's mean and std
    c.patchSize = config.vision.patchSize;
    c.temporalPatchSize = config.vision.temporalPatchSize;
    c.mergeSize = config.vision.spatialMergeSize;
    if (config.family() == model::Family::Qwen3VL) { // the Hub's Qwen3-VL preprocessor_config.json
        c.minPixels = 65536;
        c.maxPixels = 16777216;
        c.mean = c.std = {0.5f, 0.5f, 0.5f};
    }
    return c;
}

void applyPixelBudget(ScoringModel &model, const PixelBudget &budget)
{
    auto c = model.folderImageConfig;
    c.minPixels = budget.minPixels > 0 ? budget.minPixels : c.minPixels;
    c.maxPixels = budget.maxPixels > 0 ? budget.maxPixels : std::min(c.maxPixels, kDefaultMaxPixels);
    if (budget.maxPixels <= 0 && c.maxPixels < c.minPixels)
        c.maxPixels = c.minPixels; // a folder whose minimum is above the default cap keeps its minimum
    const auto side = c.patchSize * c.mergeSize;
    if (c.minPixels < side * side)
        throw InputError("the minimum pixels per image (" + std::to_string(c.minPixels) + ") must be at least one merged patch (" +
                         std::to_string(side * side) + ")");
    if (c.maxPixels < c.minPixels)
        throw InputError("the maximum pixels per image (" + std::to_string(c.maxPixels) + ") is below the minimum (" +
                         std::to_string(c.minPixels) + ")");
    model.imageConfig = c;
}


Scorer::Scorer(std::shared_ptr<ScoringModel> model, ScorerOptions options)
    : m_model(std::move(model)), m_options(std::move(options))
{
    if (m_options.batchSize < 1)
        throw InputError("the batch size must be at least 1");
}

Scorer::Image Scorer::encodeRgb(const std::vector<std::uint8_t> &rgb, int width, int height, bool useCache)
{
    const auto image = vision::preprocessRgb(rgb.data(), width, height, m_model->imageConfig);
    return finishImage(image, "rendered:" + sha256Hex({reinterpret_cast<const char *>(rgb.data()), rgb.size()}), useCache,
                       false);
}

namespace detail {

std::string firstLine(const std::string &what)
{
    return what.substr(0, what.find('\n'));
}

double sigmoid(double x)
{
    return x >= 0 ? 1.0 / (1.0 + std::exp(-x)) : std::exp(x) / (1.0 + std::exp(x));
}

std::string processorKey(const vision::ImageProcessorConfig &c, torch::ScalarType dtype)
{
    return "min=" + std::to_string(c.minPixels) + ";max=" + std::to_string(c.maxPixels) + ";patch=" +
           std::to_string(c.patchSize) + ";merge=" + std::to_string(c.mergeSize) + ";t=" +
           std::to_string(c.temporalPatchSize) + ";dtype=" + c10::toString(dtype);
}

} // namespace detail

Scorer::Prepared Scorer::prepare(const std::string &queryText, std::int64_t queryImageTokens,
                                 const ScoringCandidate &c, bool useCache, const Image *encoded)
{
    Prepared p;
    p.result.candidateId = c.id;
    try {
        std::string text = c.text;
        if (!c.image.empty()) {
            p.image = encoded ? *encoded : encodeImage(c.image, c.imageHash, useCache);
        } else if (m_options.textAsImage) {
            if (text.empty())
                throw InputError("the candidate has neither text nor an image");
            const auto rendered = vision::renderTextImage(text);
            p.image = encodeRgb(rendered.rgb, rendered.width, rendered.height, useCache);
            text.clear();
        }
        auto prompt = m_model->prompt->promptIds(queryText, queryImageTokens, text, p.image.tokens);
        p.ids = std::move(prompt.ids);
        p.candidateStart = prompt.candidateStart;
        p.queryStart = prompt.queryStart;
        p.queryImageFirst = prompt.queryImageFirst;
        p.result.truncated = prompt.truncated;
        p.result.imageTokens = p.image.tokens;
        p.result.promptTokens = static_cast<std::int64_t>(p.ids.size() - p.candidateStart);
    } catch (const InputError &e) {
        p.result.error = e.what();
    } catch (const std::exception &e) { // e.g. an allocation that failed while encoding the image
        p.result.error = firstLine(e.what());
    }
    return p;
}

void Scorer::runBatch(std::size_t prefixLength, const model::KVCache *prefixCache, const Image &queryImage,
                      bool queryImageInPrefix, std::vector<Prepared *> &batch)
{
    auto &model = m_model->model;
    const auto b = static_cast<std::int64_t>(batch.size());
    std::size_t longest = 0;
    for (auto *p : batch)
        longest = std::max(longest, p->ids.size() - prefixLength);
    const auto len = static_cast<std::int64_t>(longest);
    auto ids = torch::zeros({b, len}, torch::kLong);
    auto mask = torch::zeros({b, len}, torch::kLong);
    auto idsA = ids.accessor<std::int64_t, 2>();
    auto maskA = mask.accessor<std::int64_t, 2>();
    std::vector<torch::Tensor> embeds, pixels, grids;
    const auto add = [&](const Image &img) {
        if (!img.grid.defined())
            return;
        grids.push_back(img.grid);
        if (img.embeds.defined())
            embeds.push_back(img.embeds.to(model->device()));
        else
            pixels.push_back(img.pixels);
    };
    for (std::int64_t r = 0; r < b; ++r) {
        const auto *p = batch[static_cast<std::size_t>(r)];
        const auto rowLength = static_cast<std::int64_t>(p->ids.size() - prefixLength);
        const auto pad = len - rowLength; // left padding
        for (std::int64_t i = 0; i < rowLength; ++i) {
            idsA[r][pad + i] = p->ids[prefixLength + static_cast<std::size_t>(i)];
            maskA[r][pad + i] = 1;
        }
        // The row's images in prompt order, less the query's when the prefix cache holds it.
        const bool queryHere = !queryImageInPrefix;
        if (queryHere && p->queryImageFirst)
            add(queryImage);
        add(p->image);
        if (queryHere && !p->queryImageFirst)
            add(queryImage);
    }
    model::ForwardInput in;
    in.inputIds = ids;
    in.attentionMask = mask;
    if (!grids.empty()) {
        in.imageGridThw = torch::cat(grids, 0);
        if (!pixels.empty() && !embeds.empty())
            throw std::logic_error("a batch mixes cached and uncached images");
        if (!embeds.empty())
            in.imageEmbeds = torch::cat(embeds, 0);
        else
            in.pixelValues = torch::cat(pixels, 0);
    }
    model::KVCache cache;
    if (prefixCache)
        cache = prefixCache->expandBatch(b);
    scoreRows(in, len, prefixCache ? &cache : nullptr, batch);
}

void Scorer::scoreRows(model::ForwardInput &in, std::int64_t length, model::KVCache *cache, const std::vector<Prepared *> &rows)
{
    const auto b = static_cast<std::int64_t>(rows.size());
    in.logitPositions = torch::full({b, 1}, length - 1, torch::kLong);
    in.logitTokens = torch::tensor({static_cast<std::int64_t>(m_model->prompt->positiveId()),
                                    static_cast<std::int64_t>(m_model->prompt->negativeId())});
    const auto logits = model::forward(m_model->model, in, cache).logits.to(torch::kCPU, torch::kFloat64);
    const double temperature = m_model->prompt->prompt().temperature;
    for (std::int64_t r = 0; r < b; ++r) {
        auto &res = rows[static_cast<std::size_t>(r)]->result;
        res.margin = logits[r][0][0].item<double>() - logits[r][0][1].item<double>();
        res.probability = sigmoid(res.margin);
        res.calibrated = sigmoid(res.margin / temperature);
    }
}

void Scorer::runBatchOrEach(std::size_t prefixLength, const model::KVCache *prefixCache, const Image &queryImage,
                            bool queryImageInPrefix, std::vector<Prepared *> &batch)
{
    try {
        runBatch(prefixLength, prefixCache, queryImage, queryImageInPrefix, batch);
        return;
    } catch (const std::logic_error &) {
        throw; // a bug, not a candidate's fault
    } catch (const std::exception &e) {
        if (batch.size() == 1) {
            batch.front()->result.error = "could not be scored: " + firstLine(e.what());
            return;
        }
    }
    // One candidate (a huge image, say) must not take the others down with it: each alone.
    for (auto *p : batch) {
        std::vector<Prepared *> one{p};
        runBatchOrEach(prefixLength, prefixCache, queryImage, queryImageInPrefix, one);
    }
}

std::vector<CandidateScore> Scorer::scoreQuery(const ScoringQuery &query, const CancelCheck &cancelled)
{
    if (reusesCandidates())
        return std::move(scoreCandidateFirst({query}, cancelled, {}).front());
    c10::InferenceMode inference;
    Image queryImage;
    if (!query.image.empty()) {
        try {
            queryImage = encodeImage(query.image, query.imageHash, true);
        } catch (const std::exception &e) { // every candidate of this query fails, the job goes on
            std::vector<CandidateScore> failed;
            for (const auto &c : query.candidates)
                failed.push_back({c.id, std::string("the query image: ") + firstLine(e.what())});
            return failed;
        }
    }
    // The list's images first (cache hits without decoding, misses decoded on a few threads).
    std::vector<ImageJob> jobs;
    for (const auto &c : query.candidates)
        if (!c.image.empty())
            jobs.push_back({c.image, c.imageHash});
    auto images = encodeImages(jobs);
    if (cancelled && cancelled())
        throw Cancelled();
    std::vector<Prepared> prepared;
    prepared.reserve(query.candidates.size());
    for (std::size_t i = 0, image = 0; i < query.candidates.size(); ++i) {
        const auto &c = query.candidates[i];
        const EncodedImage *encoded = c.image.empty() ? nullptr : &images[image++];
        if (encoded && !encoded->error.empty()) {
            Prepared failed;
            failed.result = {c.id, encoded->error};
            prepared.push_back(std::move(failed));
        } else {
            prepared.push_back(prepare(query.text, queryImage.tokens, c, true, encoded ? &encoded->image : nullptr));
        }
        prepared.back().index = i;
    }
    std::vector<Prepared *> order;
    for (auto &p : prepared)
        if (p.result.ok())
            order.push_back(&p);
    // The shared prefix: the ids every candidate's prompt starts with, and nothing that could depend on
    // the candidate (BPE may merge the last template characters into the candidate's first word).
    std::size_t prefixLength = 0;
    bool queryImageInPrefix = false;
    std::optional<model::KVCache> prefixCache;
    if (m_options.prefixCache && !order.empty()) {
        const auto &first = order.front()->ids;
        prefixLength = order.front()->candidateStart;
        for (const auto *p : order) {
            prefixLength = std::min(prefixLength, p->candidateStart);
            const auto mismatch = std::mismatch(first.begin(), first.begin() + static_cast<std::ptrdiff_t>(prefixLength), p->ids.begin());
            prefixLength = static_cast<std::size_t>(mismatch.first - first.begin());
        }
        const auto pads = std::count(first.begin(), first.begin() + static_cast<std::ptrdiff_t>(prefixLength),
                                     m_model->prompt->imagePadId());
        if (pads != 0 && pads != queryImage.tokens)
            throw std::logic_error("the shared prefix cuts through an image");
        queryImageInPrefix = pads > 0;
        if (prefixLength > 0) {
            prefixCache.emplace();
            model::ForwardInput in;
            in.inputIds = torch::tensor(std::vector<std::int64_t>(first.begin(), first.begin() + static_cast<std::ptrdiff_t>(prefixLength)))
                              .view({1, -1});
            if (queryImageInPrefix) {
                in.imageEmbeds = queryImage.embeds;
                in.imageGridThw = queryImage.grid;
            }
            model::forward(m_model->model, in, &*prefixCache);
        }
    }
    m_lastPrefixTokens = prefixLength;
    // Length bucketing: similar lengths share a batch, so little padding is computed.
    std::stable_sort(order.begin(), order.end(), [](const Prepared *a, const Prepared *b) { return a->ids.size() < b->ids.size(); });
    for (std::size_t start = 0; start < order.size(); start += static_cast<std::size_t>(m_options.batchSize)) {
        if (cancelled && cancelled())
            throw Cancelled();
        std::vector<Prepared *> batch(order.begin() + static_cast<std::ptrdiff_t>(start),
                                      order.begin() + static_cast<std::ptrdiff_t>(std::min(order.size(), start + static_cast<std::size_t>(m_options.batchSize))));
        runBatchOrEach(prefixLength, prefixCache ? &*prefixCache : nullptr, queryImage, queryImageInPrefix, batch);
    }
    std::vector<CandidateScore> out;
    out.reserve(prepared.size());
    for (auto &p : prepared)
        out.push_back(std::move(p.result));
    return out;
}

CandidateScore Scorer::scoreSinglePair(const ScoringQuery &query, const ScoringCandidate &candidate)
{
    c10::InferenceMode inference;
    Image queryImage;
    if (!query.image.empty())
        queryImage = encodeImage(query.image, query.imageHash, false);
    auto p = prepare(query.text, queryImage.tokens, candidate, false);
    if (!p.result.ok())
        return p.result;
    std::vector<Prepared *> batch{&p};
    runBatch(0, nullptr, queryImage, false, batch);
    return p.result;
}

} // namespace unirank::scoring
