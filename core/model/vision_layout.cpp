// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/model/vision_layout.h"

#include <cmath>

namespace unirank::model {

WindowLayout windowLayout(const torch::Tensor &gridThw, const VisionConfig &config)
{
    const auto grid = gridThw.to(torch::kCPU, torch::kLong).contiguous();
    const auto g = grid.accessor<std::int64_t, 2>();
    const auto m = config.spatialMergeSize;
    const auto side = config.windowSize / m / config.patchSize; // merged patches per window side
    WindowLayout out;
    std::vector<std::int64_t> order;
    std::int64_t base = 0;
    for (std::int64_t i = 0; i < grid.size(0); ++i) {
        const auto t = g[i][0], h = g[i][1] / m, w = g[i][2] / m;
        for (std::int64_t f = 0; f < t; ++f)
            for (std::int64_t wr = 0; wr * side < h; ++wr)
                for (std::int64_t wc = 0; wc * side < w; ++wc) {
                    std::int64_t count = 0;
                    for (std::int64_t r = wr * side; r < std::min(h, (wr + 1) * side); ++r)
                        for (std::int64_t c = wc * side; c < std::min(w, (wc + 1) * side); ++c, ++count)
                            order.push_back(base + (f * h + r) * w + c);
                    out.segments.push_back(count * m * m);
                }
        base += t * h * w;
    }
    out.order = torch::tensor(order, torch::kLong);
    return out;
}

PositionSamples positionSamples(const torch::Tensor &gridThw, const VisionConfig &config)
{
    const auto grid = gridThw.to(torch::kCPU, torch::kLong).contiguous();
    const auto g = grid.accessor<std::int64_t, 2>();
    const auto m = config.spatialMergeSize;
    const auto side = static_cast<std::int64_t>(std::llround(std::sqrt(static_cast<double>(config.numPositionEmbeddings))));
    std::vector<torch::Tensor> index, weight;
    for (std::int64_t i = 0; i < grid.size(0); ++i) {
        const auto t = g[i][0], h = g[i][1], w = g[i][2];
        // Sample points and weights in float32, as the reference computes them.
        const auto hs = torch::linspace(0, static_cast<double>(side - 1), h, torch::kFloat32);
        const auto ws = torch::linspace(0, static_cast<double>(side - 1), w, torch::kFloat32);
        const auto hf = hs.to(torch::kLong), wf = ws.to(torch::kLong);
        const auto hc = (hf + 1).clamp_max(side - 1), wc = (wf + 1).clamp_max(side - 1);
        const auto dh = (hs - hf.to(torch::kFloat32)).view({h, 1}), dw = (ws - wf.to(torch::kFloat32)).view({1, w});
        const auto rowF = (hf * side).view({h, 1}), rowC = (hc * side).view({h, 1});
        const auto colF = wf.view({1, w}), colC = wc.view({1, w});
        auto idx = torch::stack({(rowF + colF).reshape(-1), (rowF + colC).reshape(-1), (rowC + colF).reshape(-1),
                                 (rowC + colC).reshape(-1)});
        auto wt = torch::stack({((1 - dh) * (1 - dw)).reshape(-1), ((1 - dh) * dw).reshape(-1),
                                (dh * (1 - dw)).reshape(-1), (dh * dw).reshape(-1)});
        // Row-major (h, w) to the processor's (t, h/m, w/m, m, m) order, frames repeated.
        const auto reorder = [&](const torch::Tensor &x) {
            return x.view({4, h / m, m, w / m, m}).permute({0, 1, 3, 2, 4}).reshape({4, 1, -1}).expand({4, t, h * w}).reshape({4, -1});
        };
        index.push_back(reorder(idx));
        weight.push_back(reorder(wt));
    }
    return {torch::cat(index, 1), torch::cat(weight, 1)};
}

} // namespace unirank::model
