// SPDX-License-Identifier: GPL-3.0-or-later
// The image decoding entry point: signature and declared-size checks (decompression bombs), OpenCV's
// decoders, then the Qwen2-VL resize and patching. Also the import-time probe on the same bytes.
#include "fuzz_target.h"

#include "core/vision/image_preprocess.h"
#include "core/vision/image_probe.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    using namespace unirank;
    const auto bytes = fuzz::asText(data, size);
    // Small budgets keep one execution fast; the checks are the same at any size.
    const ImageLimits probeLimits{1u << 20, 1u << 20};
    std::string whyNot;
    const auto info = probeImage(bytes, probeLimits, &whyNot);
    vision::ImageProcessorConfig config;
    config.maxPixels = 28 * 28 * 16;
    try {
        const auto image = vision::preprocessImage(bytes, config, vision::DecodeLimits{1u << 20, 1u << 20}, "fuzz.img");
        if (image.pixelValues.size() != static_cast<std::size_t>(image.patches * image.features))
            std::abort();
    } catch (const InputError &) {
    }
    (void)info;
    return 0;
}
