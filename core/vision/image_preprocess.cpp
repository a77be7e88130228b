// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/vision/image_preprocess.h"

#include "core/util/atomic_file.h"
#include "core/util/json_text.h"
#include "core/vision/decode.h"
#include "core/vision/pil_resample.h"
#include "core/vision/smart_resize.h"

#include <nlohmann/json.hpp>
#include <opencv2/core.hpp>
#include <opencv2/imgproc.hpp>

namespace unirank::vision {
namespace {

/// Any decoded Mat (grey, grey+alpha, BGR, BGRA; 8 or 16 bit) to tightly packed 8-bit RGB.
cv::Mat toRgb8(const cv::Mat &decoded)
{
    cv::Mat img = decoded;
    if (img.depth() == CV_16U)
        img.convertTo(img, CV_8U, 1.0 / 257.0);
    else if (img.depth() != CV_8U)
        throw InputError("unsupported pixel depth");
    cv::Mat rgb;
    switch (img.channels()) {
    case 1:
        cv::cvtColor(img, rgb, cv::COLOR_GRAY2RGB);
        break;
    case 3:
        cv::cvtColor(img, rgb, cv::COLOR_BGR2RGB);
        break;
    case 4: {
        // Composite over white with Pillow's integer alpha_composite arithmetic (opaque background).
        rgb.create(img.rows, img.cols, CV_8UC3);
        for (int y = 0; y < img.rows; ++y) {
            const auto *s = img.ptr<cv::Vec4b>(y);
            auto *d = rgb.ptr<cv::Vec3b>(y);
            for (int x = 0; x < img.cols; ++x) {
                const std::uint32_t a = s[x][3];
                const std::uint32_t coef1 = a * 128, coef2 = 255 * 128 - coef1;
                for (int c = 0; c < 3; ++c) {
                    const std::uint32_t src = s[x][2 - c]; // BGRA -> R, G, B
                    const std::uint32_t tmp = src * coef1 + 255 * coef2 + (0x80 << 7);
                    d[x][c] = static_cast<std::uint8_t>((((tmp >> 8) + tmp) >> 8) >> 7);
                }
            }
        }
        break;
    }
    default:
        throw InputError("unsupported channel count " + std::to_string(img.channels()));
    }
    return rgb.isContinuous() ? rgb : rgb.clone();
}

std::int64_t intField(const nlohmann::json &j, const char *key, std::int64_t fallback, const std::string &source)
{
    const auto it = j.find(key);
    if (it == j.end() || it->is_null())
        return fallback;
    if (!it->is_number_integer())
        throw InputError({source, 0, key}, "must be an integer");
    return it->get<std::int64_t>();
}

} // namespace

Result<ImageProcessorConfig> ImageProcessorConfig::fromJson(const nlohmann::json &j, const std::string &source)
{
    try {
        if (!j.is_object())
            throw InputError({source, 0, ""}, "not a JSON object");
        ImageProcessorConfig c;
        c.minPixels = intField(j, "min_pixels", c.minPixels, source);
        c.maxPixels = intField(j, "max_pixels", c.maxPixels, source);
        if (const auto size = j.find("size"); size != j.end() && size->is_object()) {
            c.minPixels = intField(*size, "min_pixels", intField(*size, "shortest_edge", c.minPixels, source), source);
            c.maxPixels = intField(*size, "max_pixels", intField(*size, "longest_edge", c.maxPixels, source), source);
        }
        c.patchSize = intField(j, "patch_size", c.patchSize, source);
        c.temporalPatchSize = intField(j, "temporal_patch_size", c.temporalPatchSize, source);
        c.mergeSize = intField(j, "merge_size", c.mergeSize, source);
        for (const auto &[key, target] : {std::pair{"image_mean", &c.mean}, std::pair{"image_std", &c.std}}) {
            const auto it = j.find(key);
            if (it == j.end())
                continue;
            if (!it->is_array() || it->size() != 3)
                throw InputError({source, 0, key}, "must be three numbers");
            for (std::size_t i = 0; i < 3; ++i)
                (*target)[i] = floatValue((*it)[i], {source, 0, key});
        }
        if (j.contains("rescale_factor"))
            c.rescaleFactor = numberValue(j.at("rescale_factor"), {source, 0, "rescale_factor"});
        c.doResize = j.value("do_resize", true);
        c.doRescale = j.value("do_rescale", true);
        c.doNormalize = j.value("do_normalize", true);
        if (const auto r = j.find("resample"); r != j.end() && r->is_number_integer() && r->get<int>() != 3)
            throw InputError({source, 0, "resample"}, "only bicubic (3) resampling is supported");
        if (c.minPixels <= 0 || c.maxPixels < c.minPixels)
            throw InputError({source, 0, "max_pixels"}, "must be at least min_pixels, which must be positive");
        if (c.patchSize <= 0 || c.temporalPatchSize <= 0 || c.mergeSize <= 0)
            throw InputError({source, 0, "patch_size"}, "sizes must be positive");
        for (const auto s : c.std)
            if (s == 0)
                throw InputError({source, 0, "image_std"}, "must not be 0");
        return c;
    } catch (const InputError &e) {
        return std::unexpected(Error{ErrorKind::BadInput, e.what()});
    } catch (const nlohmann::json::exception &e) {
        return std::unexpected(Error{ErrorKind::BadInput, source + ": " + e.what()});
    }
}

Result<ImageProcessorConfig> ImageProcessorConfig::load(const std::filesystem::path &path)
{
    try {
        return fromJson(readJsonFile(path), path.string());
    } catch (const InputError &e) {
        return std::unexpected(Error{ErrorKind::BadInput, e.what()});
    }
}

std::optional<std::array<std::int64_t, 3>> plannedGrid(std::string_view bytes, const ImageProcessorConfig &c,
                                                      const DecodeLimits &limits)
{
    if (bytes.size() > limits.maxBytes)
        return std::nullopt;
    const auto declared = readDeclaredSize(bytes);
    if (!declared || pixelLimitProblem(*declared, limits.maxPixels))
        return std::nullopt;
    const auto height = static_cast<std::int64_t>(declared->height), width = static_cast<std::int64_t>(declared->width);
    const auto factor = c.patchSize * c.mergeSize;
    ResizeTarget target{height, width};
    try {
        if (c.doResize)
            target = smartResize(height, width, factor, c.minPixels, c.maxPixels);
        else if (height % factor != 0 || width % factor != 0)
            return std::nullopt;
    } catch (const InputError &) { // too small, too elongated: decoding reports it
        return std::nullopt;
    }
    return std::array<std::int64_t, 3>{1, target.height / c.patchSize, target.width / c.patchSize};
}

PreprocessedImage preprocessRgb(const std::uint8_t *rgb, int width, int height, const ImageProcessorConfig &c)
{
    PreprocessedImage out;
    const auto factor = c.patchSize * c.mergeSize;
    ResizeTarget target{height, width};
    if (c.doResize)
        target = smartResize(height, width, factor, c.minPixels, c.maxPixels);
    else if (height % factor != 0 || width % factor != 0)
        throw InputError("without resizing, both sides must be multiples of " + std::to_string(factor));
    out.resizedHeight = target.height;
    out.resizedWidth = target.width;
    if (target.height == height && target.width == width)
        out.resizedRgb.assign(rgb, rgb + static_cast<std::size_t>(width) * static_cast<std::size_t>(height) * 3);
    else
        out.resizedRgb = resizeBicubicLikePillow(rgb, width, height, 3, static_cast<int>(target.width),
                                                 static_cast<int>(target.height));
    const auto H = target.height, W = target.width, P = c.patchSize, T = c.temporalPatchSize, M = c.mergeSize;
    // Normalised channel planes [3, H, W] in float, with the reference's rounding steps.
    std::vector<float> planes(static_cast<std::size_t>(3 * H * W));
    for (std::int64_t i = 0; i < H * W; ++i)
        for (std::int64_t ch = 0; ch < 3; ++ch) {
            float v = out.resizedRgb[static_cast<std::size_t>(i * 3 + ch)];
            if (c.doRescale)
                v = static_cast<float>(static_cast<double>(out.resizedRgb[static_cast<std::size_t>(i * 3 + ch)]) * c.rescaleFactor);
            if (c.doNormalize)
                v = (v - c.mean[static_cast<std::size_t>(ch)]) / c.std[static_cast<std::size_t>(ch)];
            planes[static_cast<std::size_t>(ch * H * W + i)] = v;
        }
    const auto gh = H / P, gw = W / P;
    out.gridThw = {1, gh, gw};
    out.patches = gh * gw;
    out.features = 3 * T * P * P;
    out.pixelValues.resize(static_cast<std::size_t>(out.patches * out.features));
    std::int64_t row = 0;
    for (std::int64_t bh = 0; bh < gh / M; ++bh)
        for (std::int64_t bw = 0; bw < gw / M; ++bw)
            for (std::int64_t mh = 0; mh < M; ++mh)
                for (std::int64_t mw = 0; mw < M; ++mw, ++row) {
                    const auto py0 = (bh * M + mh) * P, px0 = (bw * M + mw) * P;
                    float *dst = out.pixelValues.data() + row * out.features;
                    for (std::int64_t ch = 0; ch < 3; ++ch)
                        for (std::int64_t t = 0; t < T; ++t) // the still image repeated per frame
                            for (std::int64_t y = 0; y < P; ++y) {
                                const float *src = planes.data() + ch * H * W + (py0 + y) * W + px0;
                                std::copy(src, src + P, dst + ((ch * T + t) * P + y) * P);
                            }
                }
    return out;
}

PreprocessedImage preprocessImage(std::string_view bytes, const ImageProcessorConfig &config, const DecodeLimits &limits,
                                  const std::string &name)
{
    try {
        if (bytes.size() > limits.maxBytes)
            throw InputError("the file is larger than " + std::to_string(limits.maxBytes) + " bytes");
        std::string why;
        const auto declared = readDeclaredSize(bytes, &why);
        if (!declared)
            throw InputError(why);
        if (auto problem = pixelLimitProblem(*declared, limits.maxPixels))
            throw InputError(*problem);
        const auto decoded = decodeUnchanged(bytes, declared->format, &why);
        if (decoded.empty())
            throw InputError(why);
        const auto rgb = toRgb8(decoded);
        return preprocessRgb(rgb.ptr<std::uint8_t>(), rgb.cols, rgb.rows, config);
    } catch (const InputError &e) {
        throw InputError(name + ": " + e.what());
    }
}

PreprocessedImage preprocessImageFile(const std::filesystem::path &path, const ImageProcessorConfig &config,
                                      const DecodeLimits &limits)
{
    std::error_code ec;
    const auto size = std::filesystem::file_size(path, ec);
    if (!ec && size > limits.maxBytes)
        throw InputError(path.string() + ": the file is larger than " + std::to_string(limits.maxBytes) + " bytes");
    return preprocessImage(readWholeFile(path), config, limits, path.string());
}

} // namespace unirank::vision
