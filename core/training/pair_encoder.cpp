// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/training/pair_encoder.h"

namespace unirank::training {

PairEncoder::PairEncoder(std::shared_ptr<scoring::ScoringModel> model, std::size_t pixelCacheBytes)
    : m_model(std::move(model)), m_pixels(pixelCacheBytes)
{
}

torch::Tensor PairEncoder::preprocess(const std::filesystem::path &file, Image *info)
{
    const auto pre = vision::preprocessImageFile(file, m_model->imageConfig);
    ++m_preprocessed;
    if (info) {
        info->grid = torch::tensor(std::vector<std::int64_t>(pre.gridThw.begin(), pre.gridThw.end())).view({1, 3});
        info->tokens = pre.tokenCount(m_model->imageConfig.mergeSize);
    }
    auto pixels = torch::from_blob(const_cast<float *>(pre.pixelValues.data()), {pre.patches, pre.features}, torch::kFloat32).clone();
    m_pixels.put(file.string(), pixels);
    return pixels;
}

const PairEncoder::Image &PairEncoder::image(const std::filesystem::path &file)
{
    const auto key = file.string();
    if (const auto it = m_images.find(key); it != m_images.end())
        return it->second;
    Image img;
    preprocess(file, &img);
    return m_images.emplace(key, std::move(img)).first->second;
}

torch::Tensor PairEncoder::pixels(const std::string &key)
{
    if (auto hit = m_pixels.get(key))
        return *hit;
    return preprocess(key, nullptr);
}

PairEncoder::Stats PairEncoder::stats() const
{
    return {m_preprocessed, m_pixels.stats().bytes};
}

EncodedPair PairEncoder::encode(const TrainGroup &group, const TrainItem &item, std::size_t groupIndex)
{
    EncodedPair out;
    out.label = item.label;
    out.grade = item.grade;
    out.group = groupIndex;
    out.candidateId = item.candidateId;
    const Image *queryImage = group.queryImage.empty() ? nullptr : &image(group.queryImage);
    const Image *candidateImage = item.image.empty() ? nullptr : &image(item.image);
    const auto prompt = m_model->prompt->promptIds(group.queryText, queryImage ? queryImage->tokens : 0, item.text,
                                                   candidateImage ? candidateImage->tokens : 0);
    out.ids = prompt.ids;
    const auto add = [&](const Image *img, const std::filesystem::path &file) {
        if (!img)
            return;
        out.grids.push_back(img->grid);
        out.imageKeys.push_back(file.string());
    };
    // Images in prompt order (the query's comes second when {query} follows {candidate}).
    if (prompt.queryImageFirst) {
        add(queryImage, group.queryImage);
        add(candidateImage, item.image);
    } else {
        add(candidateImage, item.image);
        add(queryImage, group.queryImage);
    }
    return out;
}

Batch makeBatch(const std::vector<const EncodedPair *> &pairs, const scoring::BoundTemplate &prompt,
                bool labelTokensOnly, torch::Device device)
{
    Batch batch;
    batch.pairs = pairs;
    const auto b = static_cast<std::int64_t>(pairs.size());
    std::size_t longest = 0;
    for (const auto *p : pairs)
        longest = std::max(longest, p->ids.size());
    const auto len = static_cast<std::int64_t>(longest);
    auto ids = torch::zeros({b, len}, torch::kLong);
    auto mask = torch::zeros({b, len}, torch::kLong);
    auto idsA = ids.accessor<std::int64_t, 2>();
    auto maskA = mask.accessor<std::int64_t, 2>();
    std::vector<torch::Tensor> grids;
    std::vector<std::int64_t> labels;
    for (std::int64_t r = 0; r < b; ++r) {
        const auto *p = pairs[static_cast<std::size_t>(r)];
        const auto pad = len - static_cast<std::int64_t>(p->ids.size());
        for (std::size_t i = 0; i < p->ids.size(); ++i) {
            idsA[r][pad + static_cast<std::int64_t>(i)] = p->ids[i];
            maskA[r][pad + static_cast<std::int64_t>(i)] = 1;
        }
        grids.insert(grids.end(), p->grids.begin(), p->grids.end());
        labels.push_back(p->label);
        batch.groups.push_back(p->group);
    }
    batch.input.inputIds = ids.to(device);
    batch.input.attentionMask = mask.to(device);
    if (!grids.empty())
        batch.input.imageGridThw = torch::cat(grids);
    batch.input.logitPositions = torch::full({b, 1}, len - 1, torch::kLong).to(device);
    if (labelTokensOnly)
        batch.input.logitTokens = torch::tensor({std::int64_t(prompt.negativeId()), std::int64_t(prompt.positiveId())},
                                                torch::kLong)
                                      .to(device);
    batch.labels = torch::tensor(labels, torch::kLong).to(device);
    return batch;
}

} // namespace unirank::training
