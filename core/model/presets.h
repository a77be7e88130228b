// SPDX-License-Identifier: GPL-3.0-or-later
// Model shapes we build without a checkpoint: the tiny config of the golden checkpoints (config A) and
// Qwen2-VL-2B's shapes with a chosen number of layers (benchmarks, random-weight tests).
#pragma once

#include "core/model/config.h"

namespace unirank::model {

/// Config A of the golden data: hidden 64, 2+2 layers, vocab 512, special ids 496..509.
Qwen2VLConfig tinyConfig();
/// Qwen2-VL-2B-Instruct's shapes (hidden 1536, 12 heads / 2 KV, intermediate 8960, vocab 151936,
/// vision 1280 x 16 heads), with `textLayers` decoder layers and `visionLayers` vision blocks.
Qwen2VLConfig qwen2vl2bConfig(std::int64_t textLayers, std::int64_t visionLayers);
/// Qwen2-VL-7B-Instruct's shapes (hidden 3584, 28 heads / 4 KV, intermediate 18944, vocabulary 152064,
/// untied head) with the given depths.
Qwen2VLConfig qwen2vl7bConfig(std::int64_t textLayers, std::int64_t visionLayers);

} // namespace unirank::model
