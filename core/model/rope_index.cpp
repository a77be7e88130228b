// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/model/rope_index.h"

#include "core/util/error.h"

#include <algorithm>

namespace unirank::model {

RopeIndex computeRopeIndex(const torch::Tensor &inputIds, const torch::Tensor &imageGridThw,
                           const torch::Tensor &attentionMask, const SpecialTokens &tokens,
                           std::int64_t spatialMergeSize, const torch::Tensor &startPositions)
{
    const auto ids = inputIds.to(torch::kCPU, torch::kLong).contiguous();
    if (ids.dim() != 2)
        throw InputError("input_ids must have shape [batch, length]");
    const auto batch = ids.size(0), length = ids.size(1);
    const auto mask = attentionMask.defined() ? attentionMask.to(torch::kCPU, torch::kLong).contiguous()
                                              : torch::ones({batch, length}, torch::kLong);
    if (mask.sizes() != ids.sizes())
        throw InputError("attention_mask must have the shape of input_ids");
    torch::Tensor grid = imageGridThw.defined() ? imageGridThw.to(torch::kCPU, torch::kLong).contiguous()
                                                : torch::zeros({0, 3}, torch::kLong);
    const auto start = startPositions.defined() ? startPositions.to(torch::kCPU, torch::kLong).contiguous()
                                                : torch::zeros({batch}, torch::kLong);
    auto positions = torch::ones({3, batch, length}, torch::kLong);
    auto deltas = torch::zeros({batch, 1}, torch::kLong);
    auto next = torch::zeros({batch}, torch::kLong);
    const auto idA = ids.accessor<std::int64_t, 2>();
    const auto maskA = mask.accessor<std::int64_t, 2>();
    const auto gridA = grid.accessor<std::int64_t, 2>();
    auto posA = positions.accessor<std::int64_t, 3>();
    std::int64_t imageIndex = 0;
    for (std::int64_t b = 0; b < batch; ++b) {
        std::vector<std::int64_t> slots; // indices of real tokens
        for (std::int64_t i = 0; i < length; ++i)
            if (maskA[b][i] != 0)
                slots.push_back(i);
        const auto n = static_cast<std::int64_t>(slots.size());
        const auto tok = [&](std::int64_t k) { return idA[b][slots[static_cast<std::size_t>(k)]]; };
        std::int64_t images = 0;
        for (std::int64_t k = 0; k + 1 < n; ++k) {
            if (tok(k) != tokens.visionStart)
                continue;
            if (tok(k + 1) == tokens.imageToken)
                ++images;
            else if (tok(k + 1) == tokens.videoToken)
                throw InputError("row " + std::to_string(b) + ": video input is not supported");
        }
        std::int64_t cursor = 0;                 // index into slots
        std::int64_t value = start[b].item<std::int64_t>(); // next position value
        std::int64_t maxValue = value - 1;
        const auto put = [&](std::int64_t k, std::int64_t t, std::int64_t h, std::int64_t w) {
            const auto i = slots[static_cast<std::size_t>(k)];
            posA[0][b][i] = t;
            posA[1][b][i] = h;
            posA[2][b][i] = w;
            maxValue = std::max({maxValue, t, h, w});
        };
        for (std::int64_t img = 0; img < images; ++img) {
            std::int64_t ed = cursor;
            while (ed < n && tok(ed) != tokens.imageToken)
                ++ed;
            if (ed >= n || imageIndex >= grid.size(0))
                throw InputError("row " + std::to_string(b) + ": more images in the prompt than image_grid_thw rows");
            const auto gt = gridA[imageIndex][0], gh = gridA[imageIndex][1] / spatialMergeSize,
                       gw = gridA[imageIndex][2] / spatialMergeSize;
            ++imageIndex;
            for (std::int64_t k = cursor; k < ed; ++k, ++value)
                put(k, value, value, value);
            const auto base = value;
            const auto count = gt * gh * gw;
            if (ed + count > n)
                throw InputError("row " + std::to_string(b) + ": image " + std::to_string(imageIndex - 1) + " needs " +
                                 std::to_string(count) + " <|image_pad|> tokens, the prompt ends first");
            for (std::int64_t k = 0; k < count; ++k) {
                if (tok(ed + k) != tokens.imageToken)
                    throw InputError("row " + std::to_string(b) + ": image " + std::to_string(imageIndex - 1) +
                                     " needs " + std::to_string(count) + " <|image_pad|> tokens, found " +
                                     std::to_string(k));
                const auto ti = k / (gh * gw), hi = (k / gw) % gh, wi = k % gw;
                put(ed + k, base + ti, base + hi, base + wi);
            }
            cursor = ed + count;
            value = maxValue + 1;
        }
        for (std::int64_t k = cursor; k < n; ++k, ++value)
            put(k, value, value, value);
        next[b] = maxValue + 1;
        deltas[b][0] = maxValue + 1 - length;
    }
    if (imageIndex != grid.size(0))
        throw InputError("image_grid_thw has " + std::to_string(grid.size(0)) + " rows but the prompt holds " +
                         std::to_string(imageIndex) + " images");
    return {positions, deltas, next};
}

} // namespace unirank::model
