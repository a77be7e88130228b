// SPDX-License-Identifier: GPL-3.0-or-later
// Dynamic int8 linear layers for CPU inference: each weight is quantized once to int8 per output
// channel (symmetric), each activation batch at run time per tensor, with libtorch's
// quantized::linear_dynamic (oneDNN, else QNNPACK; reduce_range, as CPUs without VNNI need to avoid
// saturating 16-bit sums). Only the language model's projections are quantized: the vision tower and
// the LM head stay in floating point. The float weights are kept (LoRA, merging and training use them).
//
// Threading: quantize before the model is shared; forwards are then as thread-safe as any.
// Errors: quantizeLanguageModelInt8 throws InputError when this libtorch has no quantized engine or
// the model is not float32 on the CPU.
#pragma once

#include "core/model/qwen2vl.h"

#include <ATen/core/ivalue.h>
#include <torch/torch.h>

namespace unirank::model {

/// A weight (and bias) packed for quantized::linear_dynamic.
struct Int8Packed {
    c10::IValue packed;
    std::int64_t in = 0, out = 0;
};

/// The quantized engine int8 layers run on ("onednn", "qnnpack"), or empty when there is none.
std::string int8Engine();
Int8Packed packInt8(const torch::Tensor &weight, const torch::Tensor &bias);
/// x W^T + b with the packed weight; x is float32 of any leading shape.
torch::Tensor linearInt8(const torch::Tensor &x, const Int8Packed &packed);
/// Quantizes every projection of the language model's layers; returns how many.
std::size_t quantizeLanguageModelInt8(Qwen2VL &model);

} // namespace unirank::model
