// SPDX-License-Identifier: GPL-3.0-or-later
// Reads an image's declared width and height from its header without decoding the pixels, so that
// decompression bombs are refused before any memory is spent on them. PNG, JPEG, GIF, BMP, WebP, TIFF.
// Pure function, thread-safe.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace unirank::vision {

struct DeclaredSize {
    std::uint64_t width = 0;
    std::uint64_t height = 0;
    std::string format; ///< "png", "jpeg", "gif", "bmp", "webp", "tiff"
};

/// nullopt when the format is unknown or its header is cut short or malformed; `whyNot` says which.
std::optional<DeclaredSize> readDeclaredSize(std::string_view bytes, std::string *whyNot = nullptr);

} // namespace unirank::vision
