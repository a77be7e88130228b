// SPDX-License-Identifier: GPL-3.0-or-later
// Pillow's bicubic resize of 8-bit images (Image.resize(..., BICUBIC)), reproduced so that our
// pixel values equal the reference processor's: separable (horizontal pass, then vertical), Keys
// kernel with a = -0.5, support widened by the scale when downscaling, coefficients normalised and
// rounded to 22-bit fixed point, and each pass rounded and clipped to uint8. OpenCV's INTER_CUBIC
// is a different filter and does not reproduce it.
// Pure function, thread-safe.
#pragma once

#include <cstdint>
#include <vector>

namespace unirank::vision {

/// `src` is height x width x channels, interleaved, row-major. Returns outHeight x outWidth x channels.
std::vector<std::uint8_t> resizeBicubicLikePillow(const std::uint8_t *src, int width, int height, int channels,
                                                  int outWidth, int outHeight);

} // namespace unirank::vision
