// SPDX-License-Identifier: GPL-3.0-or-later
// Between safetensors and torch::Tensor. Reading copies into an owned, aligned CPU tensor (the mapping
// may be unaligned and is read-only); writing is atomic.
//
// Errors: InputError naming the file and tensor (missing tensor, unsupported dtype).
#pragma once

#include "core/tensor/checkpoint.h"
#include "core/tensor/safetensors.h"

#include <torch/torch.h>

#include <filesystem>
#include <map>
#include <string>
#include <vector>

namespace unirank::model {

torch::ScalarType toTorchType(tensor::DType type); ///< throws InputError for F8 / unsigned > 8 bit
tensor::DType fromTorchType(torch::ScalarType type);

torch::Tensor readTensor(const tensor::SafetensorsFile &file, const tensor::TensorInfo &info);
/// Throws InputError "file: tensor 'name' is missing" when absent.
torch::Tensor readTensor(const tensor::SafetensorsFile &file, std::string_view name);
torch::Tensor readTensor(const tensor::Checkpoint &ckpt, const tensor::Checkpoint::Entry &entry);

/// The tensor in `dtype` on `device` with at most one copy of its data. On the CPU in the file's own
/// dtype it uses the mapped file in place (copy-on-write; the tensor keeps the file mapped); otherwise
/// it converts straight from the mapping and releases the source pages, so loading a bf16 checkpoint
/// in float32 holds the float32 weights plus one tensor, not the file as well.
torch::Tensor readTensorAs(const tensor::Checkpoint::Entry &entry, torch::ScalarType dtype, torch::Device device);

/// Reads every tensor of one file; BadInput on a malformed file.
Result<std::map<std::string, torch::Tensor>> readSafetensors(const std::filesystem::path &path);

/// Writes CPU copies of the tensors, atomically.
void writeTensors(const std::filesystem::path &path, const std::vector<std::pair<std::string, torch::Tensor>> &tensors,
                  const std::map<std::string, std::string> &metadata = {{"format", "pt"}});

} // namespace unirank::model
