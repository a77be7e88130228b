// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/training/pair_encoder.h"

namespace unirank::training {

PairEncoder::PairEncoder(std::shared_ptr<scoring::ScoringModel> model) : m_model(std::move(model)) {}

const PairEncoder::Image &PairEncoder::image(const std::filesystem::path &file)
{
    const auto key = file.string();
    if (const auto it = m_images.find(key); it != m_images.end())
        return it->second;
    const auto pre = vision::preprocessImageFile(file, m_model->imageConfig);
    Image img;
    img.grid = torch::tensor(std::vector<std::int64_t>(pre.gridThw.begin(), pre.gridThw.end())).view({1, 3});
    img.pixels = torch::from_blob(const_cast<float *>(pre.pixelValues.data()), {pre.patches, pre.features}, torch::kFloat32).clone();
    img.tokens = pre.tokenCount(m_model->imageConfig.mergeSize);
    return m_images.emplace(key, std::move(img)).first->second;
}

EncodedPair PairEncoder::encode(const TrainGroup &group, const TrainItem &item, std::size_t groupIndex)
{
    EncodedPair out;
    out.label = item.label;
    out.grade = item.grade;
    out.group = groupIndex;
    out.candidateId = item.candidateId;
    std::int64_t queryTokens = 0, candidateTokens = 0;
    if (!group.queryImage.empty()) {
        const auto &q = image(group.queryImage);
        queryTokens = q.tokens;
        out.pixels.push_back(q.pixels);
        out.grids.push_back(q.grid);
        out.imageKeys.push_back(group.queryImage.string());
    }
    if (!item.image.empty()) {
        const auto &c = image(item.image);
        candidateTokens = c.tokens;
        out.pixels.push_back(c.pixels);
        out.grids.push_back(c.grid);
        out.imageKeys.push_back(item.image.string());
    }
    const auto &prompt = *m_model->prompt;
    out.ids = prompt.prefixIds(group.queryText, queryTokens);
    const auto candidate = prompt.candidateIds(group.queryText, item.text, candidateTokens);
    out.ids.insert(out.ids.end(), candidate.ids.begin(), candidate.ids.end());
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
    std::vector<torch::Tensor> pixels, grids;
    std::vector<std::int64_t> labels;
    for (std::int64_t r = 0; r < b; ++r) {
        const auto *p = pairs[static_cast<std::size_t>(r)];
        const auto pad = len - static_cast<std::int64_t>(p->ids.size());
        for (std::size_t i = 0; i < p->ids.size(); ++i) {
            idsA[r][pad + static_cast<std::int64_t>(i)] = p->ids[i];
            maskA[r][pad + static_cast<std::int64_t>(i)] = 1;
        }
        pixels.insert(pixels.end(), p->pixels.begin(), p->pixels.end());
        grids.insert(grids.end(), p->grids.begin(), p->grids.end());
        labels.push_back(p->label);
        batch.groups.push_back(p->group);
    }
    batch.input.inputIds = ids.to(device);
    batch.input.attentionMask = mask.to(device);
    if (!pixels.empty()) {
        batch.input.pixelValues = torch::cat(pixels).to(device);
        batch.input.imageGridThw = torch::cat(grids);
    }
    batch.input.logitPositions = torch::full({b, 1}, len - 1, torch::kLong).to(device);
    if (labelTokensOnly)
        batch.input.logitTokens = torch::tensor({std::int64_t(prompt.negativeId()), std::int64_t(prompt.positiveId())},
                                                torch::kLong)
                                      .to(device);
    batch.labels = torch::tensor(labels, torch::kLong).to(device);
    return batch;
}

} // namespace unirank::training
