// SPDX-License-Identifier: GPL-3.0-or-later
// Activation checkpointing (torch.utils.checkpoint's reentrant variant): checkpoint(body, x) runs
// body(x) without keeping its intermediate activations, only x; the backward pass runs body again with
// gradients on and back-propagates through that recomputation. Memory per decoder layer drops from
// every attention and MLP activation to one [B, S, H] input, for about one extra forward.
//
// The recomputation sees what the forward saw: the random generator of x's device is forked to its
// state at the forward (dropout masks repeat) and the forward's autocast state is set again (the
// backward may run elsewhere or outside the autocast scope). Gradients of the parameters used by body
// accumulate into their .grad as usual; body must not take other tensors that need gradients except x.
//
// Threading: as body's. Errors: what body throws, from the forward or the backward.
#pragma once

#include <torch/torch.h>

#include <functional>

namespace unirank::model {

using CheckpointBody = std::function<torch::Tensor(const torch::Tensor &)>;

/// body(x) with its activations recomputed in backward; plain body(x) when grad mode is off.
torch::Tensor checkpoint(CheckpointBody body, const torch::Tensor &x);

} // namespace unirank::model
