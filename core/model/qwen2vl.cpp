// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/model/qwen2vl.h"

#include "core/model/gemm.h"

#include "core/util/error.h"

namespace unirank::model {

Qwen2VLImpl::Qwen2VLImpl(const Qwen2VLConfig &config)
    : m_config(config), m_visual(register_module("visual", VisionTower(config.vision))),
      m_model(register_module("model", TextDecoder(config.text)))
{
    if (!config.text.tieWordEmbeddings) {
        // LoraLinear: torch::nn::Linear would initialise 545M weights of a 7B head only for the loader
        // to replace them (LoraLinear skips that under SkipParameterInit). No adapter is ever added here.
        m_lmHead = register_module("lm_head", LoraLinear(config.text.hiddenSize, config.text.vocabSize, false));
    }
}

torch::Tensor Qwen2VLImpl::lmHeadWeight()
{
    return m_lmHead ? m_lmHead->weight() : m_model->embedTokens()->weight;
}

torch::Tensor Qwen2VLImpl::lmHead(const torch::Tensor &hidden)
{
    return gemm::linear(hidden, lmHeadWeight());
}

torch::Tensor Qwen2VLImpl::embed(const torch::Tensor &inputIds, const torch::Tensor &imageEmbeds)
{
    auto embeds = m_model->embedTokens()(inputIds);
    const auto isImage = inputIds == m_config.tokens.imageToken;
    const auto slots = isImage.sum().item<std::int64_t>();
    const auto rows = imageEmbeds.defined() ? imageEmbeds.size(0) : 0;
    if (slots != rows)
        throw InputError("the prompt has " + std::to_string(slots) + " <|image_pad|> tokens but the images give " +
                         std::to_string(rows) + " embeddings");
    if (rows == 0)
        return embeds;
    // Qwen3-VL rows carry their DeepStack embeddings after the main one (vision_tower.h).
    const auto main = imageEmbeds.narrow(1, 0, m_config.text.hiddenSize);
    return embeds.masked_scatter(isImage.unsqueeze(-1).expand_as(embeds), main.to(embeds.device(), embeds.scalar_type()));
}

torch::Device Qwen2VLImpl::device() const
{
    return m_model->parameters().front().device();
}

torch::ScalarType Qwen2VLImpl::dtype() const
{
    return m_model->parameters().front().scalar_type();
}

torch::Tensor allPositions(std::int64_t batch, std::int64_t length)
{
    return torch::arange(length, torch::kLong).unsqueeze(0).expand({batch, length}).contiguous();
}

torch::Tensor lastRealPositions(const torch::Tensor &attentionMask)
{
    // Left padding puts the last real token at the end; right padding at (count - 1). Take the largest
    // index whose mask is 1.
    const auto mask = attentionMask.to(torch::kCPU, torch::kLong);
    const auto idx = torch::arange(mask.size(1), torch::kLong).unsqueeze(0).expand_as(mask);
    return (idx * mask).amax(1, true);
}

ForwardOutput forward(Qwen2VL &model, const ForwardInput &input, KVCache *cache, Trace *trace)
{
    const auto &cfg = model->config();
    const auto device = model->device();
    const auto ids = input.inputIds.to(torch::kLong);
    if (ids.dim() != 2)
        throw InputError("input_ids must have shape [batch, length]");
    const auto batch = ids.size(0), length = ids.size(1);
    const auto mask = input.attentionMask.defined() ? input.attentionMask.to(torch::kLong)
                                                    : torch::ones({batch, length}, torch::kLong);
    if (input.pixelValues.defined() && input.pixelValues.numel() > 0 && !input.imageGridThw.defined())
        throw InputError("pixel_values without image_grid_thw");
    ForwardOutput out;
    if (input.positionIds.defined()) {
        out.positionIds = input.positionIds.to(torch::kLong);
        if (cache) // continue after the largest position given
            cache->nextPosition = out.positionIds.to(torch::kCPU).amax(std::vector<std::int64_t>{0, 2}) + 1;
    } else {
        torch::Tensor start;
        if (cache && !cache->empty())
            start = cache->nextPosition;
        auto index = computeRopeIndex(ids, input.imageGridThw, mask, cfg.tokens, cfg.vision.spatialMergeSize, start);
        out.positionIds = index.positionIds;
        out.ropeDeltas = index.ropeDeltas;
        if (cache)
            cache->nextPosition = index.nextPosition;
    }
    record(trace, "position_ids", out.positionIds);
    torch::Tensor imageEmbeds = input.imageEmbeds;
    if (!imageEmbeds.defined() && input.pixelValues.defined() && input.pixelValues.numel() > 0)
        imageEmbeds = model->visual()(input.pixelValues.to(device), input.imageGridThw, trace);
    if (imageEmbeds.defined() && imageEmbeds.size(0) > 0 && imageEmbeds.size(1) != model->visual()->outputWidth())
        throw InputError("image embeddings have width " + std::to_string(imageEmbeds.size(1)) + " but this model's are " +
                         std::to_string(model->visual()->outputWidth()) + " wide");
    const auto embeds = model->embed(ids.to(device), imageEmbeds);
    record(trace, "inputs_embeds", embeds);
    DeepStackInput deepstack;
    const auto hiddenSize = cfg.text.hiddenSize;
    if (imageEmbeds.defined() && imageEmbeds.size(0) > 0 && imageEmbeds.size(1) > hiddenSize) {
        deepstack.mask = ids.to(device) == cfg.tokens.imageToken;
        for (std::int64_t k = 1; k * hiddenSize < imageEmbeds.size(1); ++k)
            deepstack.embeds.push_back(imageEmbeds.narrow(1, k * hiddenSize, hiddenSize));
    }
    if (input.allowedKeys.defined() &&
        (input.allowedKeys.dim() != 3 || input.allowedKeys.size(0) != batch || input.allowedKeys.size(1) != length ||
         input.allowedKeys.size(2) != length + (cache ? cache->length() : 0)))
        throw InputError("allowed keys must have shape [batch, length, cached + length]");
    const auto hidden = model->decoder()(embeds, out.positionIds.to(device), mask.to(device), cache, trace,
                                         deepstack.embeds.empty() ? nullptr : &deepstack,
                                         input.allowedKeys.defined() ? &input.allowedKeys : nullptr);
    if (input.keepHidden)
        out.hidden = hidden;
    if (input.logitPositions.defined()) {
        const auto pos = input.logitPositions.to(device, torch::kLong);
        if (pos.dim() != 2 || pos.size(0) != batch)
            throw InputError("logit positions must have shape [batch, K]");
        const auto picked = hidden.gather(1, pos.unsqueeze(-1).expand({batch, pos.size(1), hidden.size(2)}));
        if (input.logitTokens.defined()) // a few rows (the label tokens): in float32 whatever the model's dtype
            out.logits = torch::matmul(picked.to(torch::kFloat32),
                                       model->lmHeadWeight().index_select(0, input.logitTokens.to(device, torch::kLong)).to(torch::kFloat32).t());
        else
            out.logits = model->lmHead(picked);
    }
    return out;
}

} // namespace unirank::model
