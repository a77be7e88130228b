// SPDX-License-Identifier: GPL-3.0-or-later
// Shared by the import probe and the preprocessor: the header pixel-limit check and OpenCV decoding
// with the channels and depth as stored (no EXIF rotation, like PIL). Internal to unirank_core.
#pragma once

#include "core/vision/image_header.h"

#include <opencv2/core.hpp>

#include <optional>
#include <string>
#include <string_view>

namespace unirank::vision {

/// The sentence refusing an image whose header declares more than `maxPixels` pixels, or nullopt.
std::optional<std::string> pixelLimitProblem(const DeclaredSize &size, std::uint64_t maxPixels);

/// Decodes with IMREAD_UNCHANGED; an empty Mat and `whyNot` set when OpenCV cannot.
cv::Mat decodeUnchanged(std::string_view bytes, const std::string &format, std::string *whyNot);

} // namespace unirank::vision
