// SPDX-License-Identifier: GPL-3.0-or-later
// Scorer::PackBuilder (scorer_internal.h): several prompts' segments in one row of one forward.
#include "core/model/qwen2vl.h"
#include "core/model/rope_index.h"
#include "core/scoring/scorer.h"
#include "core/scoring/scorer_internal.h"

namespace unirank::scoring {

std::size_t Scorer::PackBuilder::add(const std::vector<std::int32_t> &ids, std::size_t from, std::size_t to,
                                     const std::vector<const Image *> &images, const torch::Tensor &start,
                                     std::vector<std::pair<std::int64_t, std::int64_t>> visible)
{
    if (to <= from || to > ids.size())
        throw std::logic_error("an empty or out-of-range pack segment");
    const auto &cfg = m_model->config();
    std::vector<std::int64_t> part(ids.begin() + static_cast<std::ptrdiff_t>(from), ids.begin() + static_cast<std::ptrdiff_t>(to));
    std::vector<torch::Tensor> grids;
    for (const auto *img : images) {
        if (!img || !img->grid.defined())
            continue;
        grids.push_back(img->grid);
        if (img->embeds.defined())
            m_embeds.push_back(img->embeds.to(m_model->device()));
        else
            m_pixels.push_back(img->pixels);
    }
    const auto index = model::computeRopeIndex(torch::tensor(part).view({1, -1}), grids.empty() ? torch::Tensor() : torch::cat(grids, 0), {},
                                               cfg.tokens, cfg.vision.spatialMergeSize, start);
    Segment seg;
    seg.begin = tokens();
    seg.length = static_cast<std::int64_t>(part.size());
    seg.next = index.nextPosition.view({1});
    seg.visible = std::move(visible);
    m_ids.insert(m_ids.end(), part.begin(), part.end());
    m_positions.push_back(index.positionIds);
    m_grids.insert(m_grids.end(), grids.begin(), grids.end());
    m_segments.push_back(std::move(seg));
    return m_segments.size() - 1;
}

model::ForwardInput Scorer::PackBuilder::input(const std::vector<std::size_t> &scored, std::int32_t positive, std::int32_t negative) const
{
    const auto s = tokens();
    auto allowed = torch::zeros({s, m_prefixKeys + s}, torch::kBool);
    for (const auto &seg : m_segments) {
        auto block = allowed.narrow(0, seg.begin, seg.length);
        for (const auto &[begin, end] : seg.visible)
            if (end > begin)
                block.narrow(1, begin, end - begin).fill_(true);
        block.narrow(1, m_prefixKeys + seg.begin, seg.length).copy_(torch::ones({seg.length, seg.length}, torch::kBool).tril());
    }
    model::ForwardInput in;
    in.inputIds = torch::tensor(m_ids).view({1, -1});
    in.positionIds = torch::cat(m_positions, 2);
    in.allowedKeys = allowed.unsqueeze(0);
    detail::setImages(in, m_grids, m_embeds, m_pixels);
    if (scored.empty()) // keys and values only (prefixes)
        return in;
    std::vector<std::int64_t> last;
    for (const auto i : scored)
        last.push_back(m_segments[i].begin + m_segments[i].length - 1);
    in.logitPositions = torch::tensor(last).view({1, -1});
    in.logitTokens = torch::tensor({static_cast<std::int64_t>(positive), static_cast<std::int64_t>(negative)});
    return in;
}

} // namespace unirank::scoring
