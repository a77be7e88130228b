// SPDX-License-Identifier: GPL-3.0-or-later
// The checkpoint folders of a training run, shared by instruction tuning and alignment:
// `<output>/checkpoint-<step>/` with the model files, optimizer.safetensors (optimizer_state.h) and
// trainer_state.json, each folder
// built in a staging folder and renamed into place; pruning that keeps the newest N and the best; the
// best one published as `<output>/best/` (model files only); the CPU generator state as hex text.
//
// Threading: the training thread. Errors: std::filesystem / torch exceptions, InputError for a
// corrupt trainer_state.json.
#pragma once

#include <torch/torch.h>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <functional>

namespace unirank::training {

/// A checkpoint's file that is training state, not model: optimizer.safetensors, trainer_state.json (and
/// the optimizer.pt that earlier builds wrote; it is never loaded).
bool isTrainingStateFile(const std::filesystem::path &fileName);

std::filesystem::path checkpointDir(const std::filesystem::path &output, std::int64_t step);
/// The newest checkpoint-<step> folder with a trainer_state.json, or empty.
std::filesystem::path latestCheckpoint(const std::filesystem::path &output);

/// Writes checkpoint-<step> atomically: writeModelFiles(staging), the optimizer, the state.
void writeCheckpoint(const std::filesystem::path &output, std::int64_t step,
                     const std::function<void(const std::filesystem::path &)> &writeModelFiles,
                     torch::optim::Optimizer &optimizer, const nlohmann::json &state);
/// Reads trainer_state.json and loads the optimizer state.
nlohmann::json readCheckpoint(const std::filesystem::path &dir, torch::optim::Optimizer &optimizer);
/// Removes all but the newest `keep` checkpoints, never `protectedStep`'s.
void pruneCheckpoints(const std::filesystem::path &output, std::size_t keep, std::int64_t protectedStep);
/// Copies the model files of `checkpoint` (not the optimizer or trainer state) to `<output>/best`,
/// atomically; returns that folder.
std::filesystem::path publishBest(const std::filesystem::path &output, const std::filesystem::path &checkpoint);

/// The default CPU generator's state, hex-encoded (dropout masks, sampling), and back.
std::string cpuRngStateHex();
void setCpuRngStateHex(const std::string &hex);
/// The same for any generator (e.g. a trainer's own sampling generator).
std::string generatorStateHex(at::Generator &generator);
void setGeneratorStateHex(at::Generator &generator, const std::string &hex);

} // namespace unirank::training
