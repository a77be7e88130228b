// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/vision/smart_resize.h"

#include "core/util/error.h"

#include <algorithm>
#include <cfenv>
#include <cmath>

namespace unirank::vision {
namespace {

/// Python's round(): half to even. nearbyint rounds in the current mode, which is to-nearest-even
/// unless someone changed it; do not rely on that.
double roundHalfEven(double x)
{
    const double f = std::floor(x);
    const double diff = x - f;
    if (diff > 0.5)
        return f + 1;
    if (diff < 0.5)
        return f;
    return std::fmod(f, 2.0) == 0 ? f : f + 1;
}

} // namespace

ResizeTarget smartResize(std::int64_t height, std::int64_t width, std::int64_t factor, std::int64_t minPixels,
                         std::int64_t maxPixels)
{
    if (height < factor || width < factor)
        throw InputError("the image is " + std::to_string(width) + "x" + std::to_string(height) +
                         " pixels; both sides must be at least " + std::to_string(factor));
    const double h = static_cast<double>(height), w = static_cast<double>(width), f = static_cast<double>(factor);
    if (std::max(h, w) / std::min(h, w) > 200)
        throw InputError("the image's aspect ratio " + std::to_string(std::max(h, w) / std::min(h, w)) +
                         " is above 200");
    double hBar = roundHalfEven(h / f) * f;
    double wBar = roundHalfEven(w / f) * f;
    if (hBar * wBar > static_cast<double>(maxPixels)) {
        const double beta = std::sqrt(h * w / static_cast<double>(maxPixels));
        hBar = std::max(f, std::floor(h / beta / f) * f);
        wBar = std::max(f, std::floor(w / beta / f) * f);
    } else if (hBar * wBar < static_cast<double>(minPixels)) {
        const double beta = std::sqrt(static_cast<double>(minPixels) / (h * w));
        hBar = std::ceil(h * beta / f) * f;
        wBar = std::ceil(w * beta / f) * f;
    }
    return {static_cast<std::int64_t>(hBar), static_cast<std::int64_t>(wBar)};
}

} // namespace unirank::vision
