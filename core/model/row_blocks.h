// SPDX-License-Identifier: GPL-3.0-or-later
// Row-independent work (an MLP) over a large [..., width] input in blocks of rows, so that the
// temporaries of one block stay under a byte bound: a prompt with a 12.8 MP drawing has 43k patches in
// the vision tower and 11k tokens in the decoder. Blocks change no result; autograd works through them.
#pragma once

#include <torch/torch.h>

#include <algorithm>

namespace unirank::model {

/// `run` over the rows of `x` (all but the last dimension flattened) in blocks whose float32
/// temporaries of `rowFloats` values per row stay under `blockBytes`; the output keeps x's leading
/// dimensions and takes `run`'s last one.
template <class Run>
torch::Tensor inRowBlocks(const torch::Tensor &x, std::int64_t rowFloats, std::int64_t blockBytes, Run &&run)
{
    const auto width = x.size(-1), rows = x.numel() / std::max<std::int64_t>(1, width);
    const auto block = std::max<std::int64_t>(1, blockBytes / (4 * std::max<std::int64_t>(1, rowFloats)));
    if (rows <= block)
        return run(x);
    const auto flat = x.reshape({rows, width});
    std::vector<torch::Tensor> parts;
    for (std::int64_t r = 0; r < rows; r += block)
        parts.push_back(run(flat.narrow(0, r, std::min(block, rows - r))));
    auto out = torch::cat(parts);
    auto shape = x.sizes().vec();
    shape.back() = out.size(-1);
    return out.view(shape);
}

/// The block bound of the models' MLPs.
inline constexpr std::int64_t kMlpBlockBytes = std::int64_t(64) << 20;

} // namespace unirank::model
