// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/model/presets.h"

namespace unirank::model {

Qwen2VLConfig tinyConfig()
{
    Qwen2VLConfig c;
    c.text = {64, 2, 4, 2, 16, 128, 512, 1e-6, 1e6, {2, 3, 3}, true, "silu"};
    c.vision.depth = 2;
    c.vision.embedDim = 32;
    c.vision.numHeads = 4;
    c.vision.mlpRatio = 2;
    c.vision.hiddenSize = 64;
    c.tokens = {508, 509, 505, 506, 496, 498};
    c.torchDtype = "float32";
    return c;
}

namespace {

/// Qwen2-VL's vision tower (1280 wide, 16 heads) and special tokens around a text decoder.
Qwen2VLConfig qwen2vlWith(TextConfig text, std::int64_t visionLayers)
{
    Qwen2VLConfig c;
    c.text = std::move(text);
    c.vision.depth = visionLayers;
    c.vision.embedDim = 1280;
    c.vision.numHeads = 16;
    c.vision.mlpRatio = 4;
    c.vision.hiddenSize = c.text.hiddenSize;
    c.tokens = {151655, 151656, 151652, 151653, 151643, 151645};
    c.torchDtype = "bfloat16";
    return c;
}

} // namespace

Qwen2VLConfig qwen2vl2bConfig(std::int64_t textLayers, std::int64_t visionLayers)
{
    return qwen2vlWith({1536, textLayers, 12, 2, 128, 8960, 151936, 1e-6, 1e6, {16, 24, 24}, true, "silu"}, visionLayers);
}

Qwen2VLConfig qwen2vl7bConfig(std::int64_t textLayers, std::int64_t visionLayers)
{
    return qwen2vlWith({3584, textLayers, 28, 4, 128, 18944, 152064, 1e-6, 1e6, {16, 24, 24}, false, "silu"}, visionLayers);
}

} // namespace unirank::model
