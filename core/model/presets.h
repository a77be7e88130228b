// SPDX-License-Identifier: GPL-3.0-or-later
// Model shapes we build without a checkpoint: the tiny config of the golden checkpoints (config A) and
// the Hub models' shapes of each family with a chosen number of layers (benchmarks, random-weight
// checkpoints for reference tests).
#pragma once

#include "core/model/config.h"

#include <string>
#include <vector>

namespace unirank::model {

/// Config A of the golden data: hidden 64, 2+2 layers, vocab 512, special ids 496..509. For the newer
/// families the same text sizes with that family's decoder and a tiny tower of its kind (Qwen2.5-VL:
/// windows of 4 merged patches, full attention in block 1; Qwen3-VL: patch 16, an 8x8 position grid,
/// DeepStack at blocks 0 and 1).
Qwen2VLConfig tinyConfig(Family family = Family::Qwen2VL);
/// Qwen2-VL-2B-Instruct's shapes (hidden 1536, 12 heads / 2 KV, intermediate 8960, vocab 151936,
/// vision 1280 x 16 heads), with `textLayers` decoder layers and `visionLayers` vision blocks.
Qwen2VLConfig qwen2vl2bConfig(std::int64_t textLayers, std::int64_t visionLayers);
/// Qwen2-VL-7B-Instruct's shapes (hidden 3584, 28 heads / 4 KV, intermediate 18944, vocabulary 152064,
/// untied head) with the given depths.
Qwen2VLConfig qwen2vl7bConfig(std::int64_t textLayers, std::int64_t visionLayers);
/// Qwen2.5-VL-3B-Instruct (hidden 2048, 16 heads / 2 KV, intermediate 11008, tied; vision 1280 wide,
/// SwiGLU 3420, window 112 px, full attention in blocks 7, 15, 23, 31).
Qwen2VLConfig qwen2_5vl3bConfig(std::int64_t textLayers, std::int64_t visionLayers);
/// Qwen3-VL-2B-Instruct, also the base of Qwen3-VL-Reranker-2B (hidden 2048, 16 heads / 8 KV of 128,
/// intermediate 6144, tied; vision 1024 wide, 4096 MLP, patch 16, DeepStack at blocks 5, 11, 17).
Qwen2VLConfig qwen3vl2bConfig(std::int64_t textLayers, std::int64_t visionLayers);
/// Qwen3-VL-8B-Instruct (hidden 4096, 32 heads / 8 KV of 128, intermediate 12288, untied; vision 1152
/// wide, 4304 MLP, DeepStack at blocks 8, 16, 24).
Qwen2VLConfig qwen3vl8bConfig(std::int64_t textLayers, std::int64_t visionLayers);

/// The named presets of the CLI ("2b", "7b", "qwen2.5-vl-3b", "qwen3-vl-2b", "qwen3-vl-8b") with
/// their full depths where textLayers/visionLayers are <= 0; InputError for another name.
Qwen2VLConfig presetConfig(const std::string &name, std::int64_t textLayers = 0, std::int64_t visionLayers = 0);
/// The preset names, for help texts.
std::vector<std::string> presetNames();

} // namespace unirank::model
