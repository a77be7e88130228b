// SPDX-License-Identifier: GPL-3.0-or-later
// Renders text into an RGB image (black on white, word-wrapped, OpenCV's Hershey font): the
// text-as-image baseline, i.e. the modality conversion other VLM rerankers apply to text candidates.
// UniRank itself never uses it to score; it exists for the ablation and the benchmark.
// Pure function, thread-safe; non-ASCII characters are drawn as '?' (the Hershey fonts are ASCII only).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

namespace unirank::vision {

struct RenderedText {
    int width = 0, height = 0;
    std::vector<std::uint8_t> rgb; ///< height x width x 3
};

/// Lines are wrapped at `width` pixels; at most `maxLines` lines are drawn (the rest is cut).
RenderedText renderTextImage(const std::string &text, int width = 448, int maxLines = 40);

} // namespace unirank::vision
