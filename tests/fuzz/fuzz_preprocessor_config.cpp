// SPDX-License-Identifier: GPL-3.0-or-later
// preprocessor_config.json: pixel budgets, patch and merge sizes, mean/std.
#include "fuzz_target.h"

#include "core/util/json_text.h"
#include "core/vision/image_preprocess.h"

#include <nlohmann/json.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    using namespace unirank;
    try {
        const auto json = parseJsonText(fuzz::asText(data, size), SourceLocation{"preprocessor_config.json"});
        const auto config = vision::ImageProcessorConfig::fromJson(json, "preprocessor_config.json");
        fuzz::requireBadInputOrValue(config);
        if (config) {
            // An accepted config must preprocess a small image without failing.
            std::vector<std::uint8_t> rgb(32 * 24 * 3, 128);
            (void)vision::preprocessRgb(rgb.data(), 32, 24, *config);
        }
    } catch (const InputError &) {
    }
    return 0;
}
