// SPDX-License-Identifier: GPL-3.0-or-later
// Qwen2-VL image preprocessing, equal to the reference processor (Qwen2VLImageProcessor, PIL path):
// decode (OpenCV, EXIF orientation ignored like PIL), convert to RGB (grey replicated; alpha composited
// over white, as current transformers do), smart_resize, Pillow-exact bicubic resampling on uint8,
// x * (1/255) in double cast to float, (x - mean) / std in float, the still image repeated to
// `temporal_patch_size` frames, and rows in merge-window order: (t, h/2, w/2, h%2, w%2) with columns
// (channel, frame, y, x) -- the flattening of one Conv3d input block.
//
// Threading: pure functions. Errors: InputError naming the file (when given) for undecodable data,
// images above the pixel limit (checked on the header, before decoding), sides below 28 or an aspect
// ratio above 200.
#pragma once

#include "core/util/error.h"

#include <nlohmann/json_fwd.hpp>

#include <array>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string_view>
#include <vector>

namespace unirank::vision {

struct ImageProcessorConfig {
    std::int64_t minPixels = 56 * 56;
    std::int64_t maxPixels = 28 * 28 * 1280;
    std::int64_t patchSize = 14;
    std::int64_t temporalPatchSize = 2;
    std::int64_t mergeSize = 2;
    std::array<float, 3> mean{0.48145466f, 0.4578275f, 0.40821073f};
    std::array<float, 3> std{0.26862954f, 0.26130258f, 0.27577711f};
    double rescaleFactor = 1.0 / 255.0;
    bool doResize = true, doRescale = true, doNormalize = true;

    /// preprocessor_config.json (min_pixels/max_pixels at the top, or in `size` as min_pixels/max_pixels
    /// or shortest_edge/longest_edge). `source` names it in errors.
    static Result<ImageProcessorConfig> fromJson(const nlohmann::json &json, const std::string &source);
    static Result<ImageProcessorConfig> load(const std::filesystem::path &path);
};

struct DecodeLimits {
    std::uint64_t maxBytes = 64ull << 20;
    std::uint64_t maxPixels = 64ull << 20; ///< declared width x height, checked before decoding
};

struct PreprocessedImage {
    std::vector<float> pixelValues;    ///< [patches, features] row-major
    std::int64_t patches = 0, features = 0;
    std::array<std::int64_t, 3> gridThw{};
    std::int64_t resizedHeight = 0, resizedWidth = 0;
    std::vector<std::uint8_t> resizedRgb; ///< [resizedHeight, resizedWidth, 3]
    std::int64_t tokenCount(std::int64_t mergeSize) const { return patches / (mergeSize * mergeSize); }
};

/// The patch grid (t, h, w) preprocessing will give an image, from its header alone: what a cached
/// embedding needs besides itself, without decoding. nullopt when the header is unreadable, the image
/// is above the pixel limit or preprocessing would refuse it; decoding then gives the error.
std::optional<std::array<std::int64_t, 3>> plannedGrid(std::string_view bytes, const ImageProcessorConfig &config,
                                                      const DecodeLimits &limits);

/// From an 8-bit RGB image already in memory (height x width x 3).
PreprocessedImage preprocessRgb(const std::uint8_t *rgb, int width, int height, const ImageProcessorConfig &config);

/// Decodes and preprocesses encoded image bytes; `name` (a file name) prefixes error messages.
PreprocessedImage preprocessImage(std::string_view bytes, const ImageProcessorConfig &config,
                                  const DecodeLimits &limits = {}, const std::string &name = "image");

PreprocessedImage preprocessImageFile(const std::filesystem::path &path, const ImageProcessorConfig &config,
                                      const DecodeLimits &limits = {});

} // namespace unirank::vision
