// SPDX-License-Identifier: GPL-3.0-or-later
// Decodes image bytes once to prove they are a usable image, before anything is stored.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace unirank {

struct ImageLimits {
    std::uint64_t maxBytes = 64ull << 20;    ///< encoded size
    std::uint64_t maxPixels = 64ull << 20;   ///< decoded width x height (decompression bombs)
};

struct ImageInfo {
    int width = 0;
    int height = 0;
    int channels = 0;
    std::string format; ///< "png", "jpeg", "webp", "bmp", "tiff", "gif" by signature
};

/// Decodes `bytes`; returns the image's facts, or an error sentence ("not a decodable image", ...).
/// Thread-safe (no shared state).
std::optional<ImageInfo> probeImage(std::string_view bytes, const ImageLimits &limits, std::string *whyNot);

} // namespace unirank
