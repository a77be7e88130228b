// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/training/sft_objective.h"

#include <map>

namespace unirank::training {

SftLoss sftLoss(const torch::Tensor &logits, const torch::Tensor &labels, const std::vector<std::size_t> &groups,
                bool labelTokensOnly, std::int64_t negativeId, std::int64_t positiveId, double listwiseWeight)
{
    const auto l = logits.select(1, 0).to(torch::kFloat32); // [B, V']
    torch::Tensor ce, margins;
    if (labelTokensOnly) {
        ce = torch::nn::functional::cross_entropy(l, labels);
        margins = l.select(1, 1) - l.select(1, 0);
    } else {
        const auto targets = torch::where(labels == 1, torch::full_like(labels, positiveId), torch::full_like(labels, negativeId));
        ce = torch::nn::functional::cross_entropy(l, targets);
        margins = l.select(1, positiveId) - l.select(1, negativeId);
    }
    SftLoss out;
    out.loss = ce;
    out.crossEntropy = ce.item<double>();
    if (listwiseWeight > 0) {
        std::map<std::size_t, std::vector<std::int64_t>> rows;
        for (std::size_t i = 0; i < groups.size(); ++i)
            rows[groups[i]].push_back(static_cast<std::int64_t>(i));
        std::vector<torch::Tensor> terms;
        for (const auto &[group, idx] : rows) {
            const auto index = torch::tensor(idx, torch::kLong).to(margins.device());
            const auto m = margins.index_select(0, index);
            const auto positive = labels.index_select(0, index) == 1;
            const auto count = positive.sum().item<std::int64_t>();
            if (count == 0 || count == static_cast<std::int64_t>(idx.size()))
                continue;
            terms.push_back(torch::logsumexp(m, 0) - torch::logsumexp(m.masked_select(positive), 0));
        }
        if (!terms.empty()) {
            const auto listwise = torch::stack(terms).mean();
            out.listwise = listwise.item<double>();
            out.loss = out.loss + listwiseWeight * listwise;
        }
    }
    out.margins = margins.detach();
    return out;
}

} // namespace unirank::training
