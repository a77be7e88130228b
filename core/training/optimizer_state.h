// SPDX-License-Identifier: GPL-3.0-or-later
// AdamW's state (step, exp_avg, exp_avg_sq, max_exp_avg_sq per parameter) in a safetensors file, so a
// checkpoint never holds a pickle or TorchScript archive: torch::load would run the TorchScript loader
// on whatever optimizer.pt a checkpoint folder from elsewhere contains. Tensors are named
// `g<group>.p<index>.<field>`; the step is an I64 scalar `g<group>.p<index>.step`.
//
// Loading checks everything against the optimizer being resumed: every stored parameter exists, with
// the same dtype and shape; moments are finite. Errors: InputError naming the file and tensor; the optimizer
// is modified only when the whole file passed. Threading: the training thread.
#pragma once

#include <torch/torch.h>

#include <filesystem>

namespace unirank::training {

void saveOptimizerState(torch::optim::Optimizer &optimizer, const std::filesystem::path &file);
void loadOptimizerState(torch::optim::Optimizer &optimizer, const std::filesystem::path &file);

/// A deep copy of AdamW's state in memory (one entry per parameter, in group order; null where no step
/// was taken yet), to be put back by restoreOptimizerSnapshot: the KL guard's rollback.
using OptimizerSnapshot = std::vector<std::unique_ptr<torch::optim::AdamWParamState>>;
OptimizerSnapshot snapshotOptimizer(torch::optim::Optimizer &optimizer);
void restoreOptimizerSnapshot(torch::optim::Optimizer &optimizer, const OptimizerSnapshot &snapshot);

} // namespace unirank::training
