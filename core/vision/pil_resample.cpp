// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/vision/pil_resample.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace unirank::vision {
namespace {

constexpr int kPrecisionBits = 32 - 8 - 2;

double bicubic(double x)
{
    constexpr double a = -0.5;
    x = std::abs(x);
    if (x < 1.0)
        return ((a + 2.0) * x - (a + 3.0)) * x * x + 1;
    if (x < 2.0)
        return (((x - 5) * x + 8) * x - 4) * a;
    return 0.0;
}

struct Coefficients {
    int ksize = 0;
    std::vector<int> bounds;        // per output: first input index, count
    std::vector<std::int32_t> kk;   // per output: ksize fixed-point weights
};

Coefficients precompute(int inSize, int outSize)
{
    constexpr double support0 = 2.0;
    // In double: with the float arithmetic of Pillow's box coordinates, 31 bytes of the golden images
    // come out one level off; in double all are equal.
    const double scale = static_cast<double>(inSize) / static_cast<double>(outSize);
    const double filterScale = std::max(scale, 1.0);
    const double support = support0 * filterScale;
    Coefficients c;
    c.ksize = static_cast<int>(std::ceil(support)) * 2 + 1;
    c.bounds.resize(static_cast<std::size_t>(outSize) * 2);
    c.kk.assign(static_cast<std::size_t>(outSize) * static_cast<std::size_t>(c.ksize), 0);
    std::vector<double> k(static_cast<std::size_t>(c.ksize));
    for (int xx = 0; xx < outSize; ++xx) {
        const double center = (xx + 0.5) * scale;
        const double ss = 1.0 / filterScale;
        int xmin = static_cast<int>(center - support + 0.5);
        xmin = std::max(xmin, 0);
        int xmax = static_cast<int>(center + support + 0.5);
        xmax = std::min(xmax, inSize) - xmin;
        double ww = 0.0;
        for (int x = 0; x < xmax; ++x) {
            const double w = bicubic((x + xmin - center + 0.5) * ss);
            k[static_cast<std::size_t>(x)] = w;
            ww += w;
        }
        for (int x = 0; x < c.ksize; ++x) {
            double v = x < xmax ? k[static_cast<std::size_t>(x)] : 0.0;
            if (x < xmax && ww != 0.0)
                v /= ww;
            const double scaled = v * (1 << kPrecisionBits);
            c.kk[static_cast<std::size_t>(xx) * static_cast<std::size_t>(c.ksize) + static_cast<std::size_t>(x)] =
                static_cast<std::int32_t>(v < 0 ? -0.5 + scaled : 0.5 + scaled);
        }
        c.bounds[static_cast<std::size_t>(xx) * 2] = xmin;
        c.bounds[static_cast<std::size_t>(xx) * 2 + 1] = xmax;
    }
    return c;
}

std::uint8_t clip8(std::int32_t v)
{
    return static_cast<std::uint8_t>(std::clamp(v >> kPrecisionBits, 0, 255));
}

} // namespace

std::vector<std::uint8_t> resizeBicubicLikePillow(const std::uint8_t *src, int width, int height, int channels,
                                                  int outWidth, int outHeight)
{
    const auto ch = static_cast<std::size_t>(channels);
    std::vector<std::uint8_t> cur(src, src + static_cast<std::size_t>(width) * static_cast<std::size_t>(height) * ch);
    int curW = width;
    if (outWidth != width) {
        const auto c = precompute(width, outWidth);
        std::vector<std::uint8_t> next(static_cast<std::size_t>(outWidth) * static_cast<std::size_t>(height) * ch);
        for (int y = 0; y < height; ++y) {
            const auto *row = cur.data() + static_cast<std::size_t>(y) * static_cast<std::size_t>(width) * ch;
            auto *out = next.data() + static_cast<std::size_t>(y) * static_cast<std::size_t>(outWidth) * ch;
            for (int xx = 0; xx < outWidth; ++xx) {
                const int xmin = c.bounds[static_cast<std::size_t>(xx) * 2], xmax = c.bounds[static_cast<std::size_t>(xx) * 2 + 1];
                const auto *k = c.kk.data() + static_cast<std::size_t>(xx) * static_cast<std::size_t>(c.ksize);
                for (std::size_t b = 0; b < ch; ++b) {
                    std::int32_t ss = 1 << (kPrecisionBits - 1);
                    for (int x = 0; x < xmax; ++x)
                        ss += static_cast<std::int32_t>(row[static_cast<std::size_t>(x + xmin) * ch + b]) * k[x];
                    out[static_cast<std::size_t>(xx) * ch + b] = clip8(ss);
                }
            }
        }
        cur = std::move(next);
        curW = outWidth;
    }
    if (outHeight != height) {
        const auto c = precompute(height, outHeight);
        const auto rowLen = static_cast<std::size_t>(curW) * ch;
        std::vector<std::uint8_t> next(static_cast<std::size_t>(outHeight) * rowLen);
        for (int yy = 0; yy < outHeight; ++yy) {
            const int ymin = c.bounds[static_cast<std::size_t>(yy) * 2], ymax = c.bounds[static_cast<std::size_t>(yy) * 2 + 1];
            const auto *k = c.kk.data() + static_cast<std::size_t>(yy) * static_cast<std::size_t>(c.ksize);
            auto *out = next.data() + static_cast<std::size_t>(yy) * rowLen;
            for (std::size_t i = 0; i < rowLen; ++i) {
                std::int32_t ss = 1 << (kPrecisionBits - 1);
                for (int y = 0; y < ymax; ++y)
                    ss += static_cast<std::int32_t>(cur[static_cast<std::size_t>(y + ymin) * rowLen + i]) * k[y];
                out[i] = clip8(ss);
            }
        }
        cur = std::move(next);
    }
    return cur;
}

} // namespace unirank::vision
