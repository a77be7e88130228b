// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/model/lm_loss.h"

#include "core/util/error.h"

namespace unirank::model {

LossOutput languageModelLoss(Qwen2VL &model, ForwardInput input, const torch::Tensor &labels)
{
    const auto lab = labels.to(torch::kCPU, torch::kLong);
    if (lab.sizes() != input.inputIds.sizes())
        throw InputError("labels must have the shape of input_ids");
    // Position i predicts label i+1.
    const auto targets = lab.narrow(1, 1, lab.size(1) - 1);
    const auto predicting = (targets != kIgnoreLabel).nonzero(); // [N, 2]
    if (predicting.size(0) == 0)
        throw InputError("every label is -100: nothing to learn");
    input.keepHidden = true;
    input.logitPositions = torch::Tensor();
    const auto out = forward(model, input);
    const auto device = out.hidden.device();
    const auto rows = predicting.select(1, 0).to(device), cols = predicting.select(1, 1).to(device);
    const auto hidden = out.hidden.index({rows, cols}); // [N, H]
    LossOutput result;
    result.logits = model->lmHead(hidden);
    result.positions = predicting;
    const auto wanted = targets.index({predicting.select(1, 0), predicting.select(1, 1)}).to(device);
    result.loss = torch::nn::functional::cross_entropy(result.logits.to(torch::kFloat32), wanted);
    return result;
}

} // namespace unirank::model
