// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/vision/image_probe.h"

#include "core/vision/decode.h"

#include <opencv2/core.hpp>

namespace unirank {
namespace {

std::string formatBySignature(std::string_view b)
{
    if (b.starts_with("\x89PNG\r\n\x1a\n"))
        return "png";
    if (b.starts_with("\xFF\xD8\xFF"))
        return "jpeg";
    if (b.size() >= 12 && b.starts_with("RIFF") && b.substr(8, 4) == "WEBP")
        return "webp";
    if (b.starts_with("BM"))
        return "bmp";
    if (b.starts_with("II*\0") || b.starts_with("MM\0*"))
        return "tiff";
    if (b.starts_with("GIF8"))
        return "gif";
    return {};
}

} // namespace

std::optional<ImageInfo> probeImage(std::string_view bytes, const ImageLimits &limits, std::string *whyNot)
{
    const auto fail = [&](std::string why) -> std::optional<ImageInfo> {
        if (whyNot)
            *whyNot = std::move(why);
        return std::nullopt;
    };
    if (bytes.empty())
        return fail("the image file is empty");
    if (bytes.size() > limits.maxBytes)
        return fail("the image file is larger than " + std::to_string(limits.maxBytes) + " bytes");
    ImageInfo info;
    info.format = formatBySignature(bytes);
    if (info.format.empty())
        return fail("not a PNG, JPEG, WebP, BMP, TIFF or GIF file");
    // A decompression bomb is refused from its header, before any pixel memory is spent.
    if (const auto declared = vision::readDeclaredSize(bytes))
        if (auto problem = vision::pixelLimitProblem(*declared, limits.maxPixels))
            return fail(std::move(*problem));
    std::string why;
    const auto decoded = vision::decodeUnchanged(bytes, info.format, &why);
    if (decoded.empty())
        return fail(why);
    if (static_cast<std::uint64_t>(decoded.cols) * static_cast<std::uint64_t>(decoded.rows) > limits.maxPixels)
        return fail("the image has more than " + std::to_string(limits.maxPixels) + " pixels");
    info.width = decoded.cols;
    info.height = decoded.rows;
    info.channels = decoded.channels();
    return info;
}

} // namespace unirank
