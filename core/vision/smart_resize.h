// SPDX-License-Identifier: GPL-3.0-or-later
// Qwen2-VL's smart_resize: the size an image is resampled to so that both sides are multiples of
// `factor` (patch x merge = 28) and the area lies within [minPixels, maxPixels], keeping the aspect.
// Rounding is Python's round-half-to-even, as the reference. One deliberate difference from
// transformers 4.45.1: when shrinking to maxPixels floors a side to 0, we clamp it to `factor` (as
// later transformers versions do) instead of returning an empty image.
//
// Throws InputError for a side below `factor` or an aspect ratio above 200 (the reference's errors).
#pragma once

#include <cstdint>

namespace unirank::vision {

struct ResizeTarget {
    std::int64_t height = 0;
    std::int64_t width = 0;
};

ResizeTarget smartResize(std::int64_t height, std::int64_t width, std::int64_t factor, std::int64_t minPixels,
                         std::int64_t maxPixels);

} // namespace unirank::vision
