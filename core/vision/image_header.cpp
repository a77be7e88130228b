// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/vision/image_header.h"

namespace unirank::vision {
namespace {

std::uint32_t be(std::string_view b, std::size_t at, int n)
{
    std::uint32_t v = 0;
    for (int i = 0; i < n; ++i)
        v = (v << 8) | static_cast<unsigned char>(b[at + static_cast<std::size_t>(i)]);
    return v;
}

std::uint32_t le(std::string_view b, std::size_t at, int n)
{
    std::uint32_t v = 0;
    for (int i = n - 1; i >= 0; --i)
        v = (v << 8) | static_cast<unsigned char>(b[at + static_cast<std::size_t>(i)]);
    return v;
}

std::optional<DeclaredSize> jpeg(std::string_view b)
{
    std::size_t p = 2;
    while (p + 4 <= b.size()) {
        if (static_cast<unsigned char>(b[p]) != 0xFF)
            return std::nullopt;
        const auto marker = static_cast<unsigned char>(b[p + 1]);
        if (marker == 0xFF) { // fill byte
            ++p;
            continue;
        }
        if (marker == 0xD8 || (marker >= 0xD0 && marker <= 0xD7) || marker == 0x01) {
            p += 2;
            continue;
        }
        const auto len = be(b, p + 2, 2);
        const bool sof = marker >= 0xC0 && marker <= 0xCF && marker != 0xC4 && marker != 0xC8 && marker != 0xCC;
        if (sof) {
            if (p + 9 > b.size())
                return std::nullopt;
            return DeclaredSize{be(b, p + 7, 2), be(b, p + 5, 2), "jpeg"};
        }
        if (len < 2)
            return std::nullopt;
        p += 2 + len;
    }
    return std::nullopt;
}

std::optional<DeclaredSize> webp(std::string_view b)
{
    if (b.size() < 30)
        return std::nullopt;
    const auto chunk = b.substr(12, 4);
    if (chunk == "VP8 ")
        return DeclaredSize{le(b, 26, 2) & 0x3FFF, le(b, 28, 2) & 0x3FFF, "webp"};
    if (chunk == "VP8L") {
        const auto bits = le(b, 21, 4);
        return DeclaredSize{(bits & 0x3FFF) + 1, ((bits >> 14) & 0x3FFF) + 1, "webp"};
    }
    if (chunk == "VP8X")
        return DeclaredSize{le(b, 24, 3) + 1, le(b, 27, 3) + 1, "webp"};
    return std::nullopt;
}

std::optional<DeclaredSize> tiff(std::string_view b)
{
    const bool little = b[0] == 'I';
    const auto rd = [&](std::size_t at, int n) -> std::optional<std::uint32_t> {
        if (at + static_cast<std::size_t>(n) > b.size())
            return std::nullopt;
        return little ? le(b, at, n) : be(b, at, n);
    };
    const auto ifd = rd(4, 4);
    if (!ifd)
        return std::nullopt;
    const auto count = rd(*ifd, 2);
    if (!count)
        return std::nullopt;
    DeclaredSize s{0, 0, "tiff"};
    for (std::uint32_t i = 0; i < *count; ++i) {
        const std::size_t e = *ifd + 2 + 12 * i;
        const auto tag = rd(e, 2), type = rd(e + 2, 2);
        if (!tag || !type)
            return std::nullopt;
        const auto value = *type == 3 ? rd(e + 8, 2) : rd(e + 8, 4);
        if (!value)
            return std::nullopt;
        if (*tag == 256)
            s.width = *value;
        else if (*tag == 257)
            s.height = *value;
    }
    if (s.width == 0 || s.height == 0)
        return std::nullopt;
    return s;
}

} // namespace

std::optional<DeclaredSize> readDeclaredSize(std::string_view b, std::string *whyNot)
{
    const auto fail = [&](const char *why) -> std::optional<DeclaredSize> {
        if (whyNot)
            *whyNot = why;
        return std::nullopt;
    };
    std::optional<DeclaredSize> size;
    if (b.starts_with("\x89PNG\r\n\x1a\n")) {
        if (b.size() < 24 || b.substr(12, 4) != "IHDR")
            return fail("the PNG header is cut short");
        size = DeclaredSize{be(b, 16, 4), be(b, 20, 4), "png"};
    } else if (b.starts_with("\xFF\xD8\xFF")) {
        size = jpeg(b);
        if (!size)
            return fail("the JPEG header has no frame size");
    } else if (b.starts_with("GIF8")) {
        if (b.size() < 10)
            return fail("the GIF header is cut short");
        size = DeclaredSize{le(b, 6, 2), le(b, 8, 2), "gif"};
    } else if (b.starts_with("BM")) {
        if (b.size() < 26)
            return fail("the BMP header is cut short");
        const auto h = static_cast<std::int32_t>(le(b, 22, 4));
        size = DeclaredSize{le(b, 18, 4), static_cast<std::uint64_t>(h < 0 ? -static_cast<std::int64_t>(h) : h), "bmp"};
    } else if (b.size() >= 12 && b.starts_with("RIFF") && b.substr(8, 4) == "WEBP") {
        size = webp(b);
        if (!size)
            return fail("the WebP header is cut short or unknown");
    } else if (b.size() >= 8 && (b.starts_with(std::string_view("II*\0", 4)) || b.starts_with(std::string_view("MM\0*", 4)))) {
        size = tiff(b);
        if (!size)
            return fail("the TIFF header has no image size");
    } else {
        return fail("not a PNG, JPEG, GIF, BMP, WebP or TIFF file");
    }
    if (size->width == 0 || size->height == 0)
        return fail("the header declares an empty image");
    return size;
}

} // namespace unirank::vision
