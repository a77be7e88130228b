// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/model/presets.h"

#include "core/util/error.h"

namespace unirank::model {

Qwen2VLConfig tinyConfig(Family family)
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
    auto &v = c.vision;
    v.family = family;
    if (family == Family::Qwen2_5VL) {
        v.intermediateSize = 48;
        v.hiddenAct = "silu";
        v.windowSize = 112;
        v.fullAttentionBlocks = {1};
    } else if (family == Family::Qwen3VL) {
        c.text.qkvBias = false;
        c.text.qkNorm = true;
        c.text.mropeInterleaved = true;
        c.text.ropeTheta = 5e6;
        v.intermediateSize = 48;
        v.hiddenAct = "gelu_pytorch_tanh";
        v.patchSize = 16;
        v.numPositionEmbeddings = 64;
        v.deepstackIndexes = {0, 1};
    }
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

Qwen2VLConfig qwen2_5vl3bConfig(std::int64_t textLayers, std::int64_t visionLayers)
{
    Qwen2VLConfig c = qwen2vlWith({2048, textLayers, 16, 2, 128, 11008, 151936, 1e-6, 1e6, {16, 24, 24}, true, "silu"}, visionLayers);
    auto &v = c.vision;
    v.family = Family::Qwen2_5VL;
    v.embedDim = 1280;
    v.intermediateSize = 3420;
    v.hiddenAct = "silu";
    v.windowSize = 112;
    for (const auto i : {7, 15, 23, 31}) // the full-attention blocks that exist at this depth
        if (i < visionLayers)
            v.fullAttentionBlocks.push_back(i);
    return c;
}

namespace {

Qwen2VLConfig qwen3vlWith(TextConfig text, std::int64_t visionLayers, std::int64_t width, std::int64_t mlp,
                          std::vector<std::int64_t> deepstack)
{
    text.qkvBias = text.outputBias = false;
    text.qkNorm = true;
    text.mropeInterleaved = true;
    Qwen2VLConfig c = qwen2vlWith(std::move(text), visionLayers);
    auto &v = c.vision;
    v.family = Family::Qwen3VL;
    v.embedDim = width;
    v.intermediateSize = mlp;
    v.patchSize = 16;
    v.hiddenAct = "gelu_pytorch_tanh";
    v.numPositionEmbeddings = 2304;
    for (const auto i : deepstack) // at a reduced depth, the DeepStack blocks that exist
        if (i < visionLayers)
            v.deepstackIndexes.push_back(i);
    return c;
}

} // namespace

Qwen2VLConfig qwen3vl2bConfig(std::int64_t textLayers, std::int64_t visionLayers)
{
    return qwen3vlWith({2048, textLayers, 16, 8, 128, 6144, 151936, 1e-6, 5e6, {24, 20, 20}, true, "silu"}, visionLayers,
                       1024, 4096, {5, 11, 17});
}

Qwen2VLConfig qwen3vl8bConfig(std::int64_t textLayers, std::int64_t visionLayers)
{
    return qwen3vlWith({4096, textLayers, 32, 8, 128, 12288, 151936, 1e-6, 5e6, {24, 20, 20}, false, "silu"}, visionLayers,
                       1152, 4304, {8, 16, 24});
}

std::vector<std::string> presetNames()
{
    return {"2b", "7b", "qwen2.5-vl-3b", "qwen3-vl-2b", "qwen3-vl-8b"};
}

Qwen2VLConfig presetConfig(const std::string &name, std::int64_t textLayers, std::int64_t visionLayers)
{
    struct Preset {
        const char *name;
        Qwen2VLConfig (*make)(std::int64_t, std::int64_t);
        std::int64_t layers, blocks;
    };
    static const Preset presets[] = {{"2b", qwen2vl2bConfig, 28, 32},
                                     {"7b", qwen2vl7bConfig, 28, 32},
                                     {"qwen2.5-vl-3b", qwen2_5vl3bConfig, 36, 32},
                                     {"qwen3-vl-2b", qwen3vl2bConfig, 28, 24},
                                     {"qwen3-vl-8b", qwen3vl8bConfig, 36, 27}};
    for (const auto &p : presets)
        if (name == p.name)
            return p.make(textLayers > 0 ? textLayers : p.layers, visionLayers > 0 ? visionLayers : p.blocks);
    throw InputError("unknown preset '" + name + "'");
}

} // namespace unirank::model
