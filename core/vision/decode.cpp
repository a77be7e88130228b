// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/vision/decode.h"

#include <opencv2/imgcodecs.hpp>

namespace unirank::vision {

std::optional<std::string> pixelLimitProblem(const DeclaredSize &size, std::uint64_t maxPixels)
{
    if (size.width * size.height <= maxPixels)
        return std::nullopt;
    return "the header declares " + std::to_string(size.width) + "x" + std::to_string(size.height) +
           " pixels, more than the limit of " + std::to_string(maxPixels) + "; not decoded";
}

cv::Mat decodeUnchanged(std::string_view bytes, const std::string &format, std::string *whyNot)
{
    cv::Mat decoded;
    try {
        const cv::Mat raw(1, static_cast<int>(bytes.size()), CV_8UC1, const_cast<char *>(bytes.data()));
        decoded = cv::imdecode(raw, cv::IMREAD_UNCHANGED);
    } catch (const cv::Exception &e) {
        *whyNot = std::string("cannot decode the image: ") + e.what();
        return {};
    }
    if (decoded.empty())
        *whyNot = "cannot decode the image (corrupt or unsupported " + format + " data)";
    return decoded;
}

} // namespace unirank::vision
