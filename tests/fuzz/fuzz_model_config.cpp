// SPDX-License-Identifier: GPL-3.0-or-later
// A model folder's config.json (Qwen2-VL, flat or nested text_config / rope_parameters).
#include "fuzz_target.h"

#include "core/model/config.h"
#include "core/util/json_text.h"

#include <nlohmann/json.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    using namespace unirank;
    try {
        const auto json = parseJsonText(fuzz::asText(data, size), SourceLocation{"config.json"});
        const auto config = model::Qwen2VLConfig::fromJson(json, "config.json");
        fuzz::requireBadInputOrValue(config);
        if (config)
            (void)config->toJson().dump();
    } catch (const InputError &) {
    }
    return 0;
}
