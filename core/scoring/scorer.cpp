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
    sm.templateHead->clear(); // computed with the float weights
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

std::size_t kvBytesPerToken(const model::Qwen2VL &model)
{
    const auto &text = model->config().text;
    return static_cast<std::size_t>(2 * text.numLayers * text.numKvHeads * text.headDim) *
           static_cast<std::size_t>(c10::elementSize(model->dtype()));
}

void setImages(model::ForwardInput &in, const std::vector<torch::Tensor> &grids, const std::vector<torch::Tensor> &embeds,
               const std::vector<torch::Tensor> &pixels)
{
    if (grids.empty())
        return;
    if (!pixels.empty() && !embeds.empty())
        throw std::logic_error("a forward mixes cached and uncached images");
    in.imageGridThw = torch::cat(grids, 0);
    if (!embeds.empty())
        in.imageEmbeds = torch::cat(embeds, 0);
    else
        in.pixelValues = torch::cat(pixels, 0);
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
        p.headLength = prompt.headLength;
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

TemplateHeadCache::Head Scorer::templateHead(const std::vector<std::int32_t> &ids, std::size_t length)
{
    auto head = m_model->templateHead->get(ids, length, [&](std::size_t n) {
        model::KVCache kv;
        model::ForwardInput in;
        in.inputIds = torch::tensor(std::vector<std::int64_t>(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(n))).view({1, -1});
        model::forward(m_model->model, in, &kv);
        return kv;
    });
    if (head.computed) {
        m_prefixTokensComputed += head.length;
        m_batchStats.headTokens += head.length;
    }
    return head;
}

} // namespace unirank::scoring
