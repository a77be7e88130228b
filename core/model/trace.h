// SPDX-License-Identifier: GPL-3.0-or-later
// Optional capture of intermediate activations by name ("vision.block.0", "decoder_layer.1", ...),
// for parity checks and debugging. A forward given nullptr records nothing and pays nothing.
#pragma once

#include <torch/torch.h>

#include <map>
#include <string>

namespace unirank::model {

using Trace = std::map<std::string, torch::Tensor>;

inline void record(Trace *trace, const std::string &name, const torch::Tensor &value)
{
    if (trace)
        (*trace)[name] = value.detach();
}

} // namespace unirank::model
