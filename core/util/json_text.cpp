// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/util/json_text.h"

#include "core/util/atomic_file.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <limits>

namespace unirank {
namespace {
struct TooDeep {};
} // namespace

nlohmann::json parseJsonText(std::string_view text, const SourceLocation &where, const JsonLimits &limits)
{
    using Event = nlohmann::json::parse_event_t;
    const nlohmann::json::parser_callback_t checkDepth = [&](int depth, Event event, nlohmann::json &) {
        if ((event == Event::object_start || event == Event::array_start) && depth > limits.maxDepth)
            throw TooDeep{};
        return true;
    };
    try {
        return nlohmann::json::parse(text, checkDepth);
    } catch (const TooDeep &) {
        throw InputError(where, "JSON nested deeper than " + std::to_string(limits.maxDepth) + " levels");
    } catch (const nlohmann::json::exception &e) {
        throw InputError(where, std::string("not valid JSON: ") + e.what());
    }
}

std::int64_t integerIn(const nlohmann::json &value, const SourceLocation &where, std::int64_t min, std::int64_t max)
{
    const auto range = [&] {
        return InputError(where, "must be an integer from " + std::to_string(min) + " to " + std::to_string(max));
    };
    if (value.is_number_unsigned()) {
        const auto u = value.get<std::uint64_t>();
        if (max < 0 || u > static_cast<std::uint64_t>(max) || static_cast<std::int64_t>(u) < min)
            throw range();
        return static_cast<std::int64_t>(u);
    }
    if (!value.is_number_integer())
        throw range();
    const auto v = value.get<std::int64_t>();
    if (v < min || v > max)
        throw range();
    return v;
}

double numberValue(const nlohmann::json &value, const SourceLocation &where)
{
    if (!value.is_number())
        throw InputError(where, "must be a number");
    return value.get<double>(); // JSON cannot spell NaN or infinity
}

float floatValue(const nlohmann::json &value, const SourceLocation &where)
{
    const double d = numberValue(value, where);
    if (!std::isfinite(d) || std::fabs(d) > static_cast<double>(std::numeric_limits<float>::max()))
        throw InputError(where, "must be a finite number within the range of a float");
    return static_cast<float>(d);
}

nlohmann::json readJsonFile(const std::filesystem::path &path, const JsonLimits &limits)
{
    const SourceLocation where{path.string()};
    std::error_code ec;
    if (std::filesystem::exists(path, ec) && !std::filesystem::is_regular_file(path, ec))
        throw InputError(where, "not a regular file");
    const auto size = std::filesystem::file_size(path, ec);
    if (ec)
        throw InputError(where, "cannot read file: " + ec.message());
    if (size > limits.maxFileBytes)
        throw InputError(where, "file is larger than " + std::to_string(limits.maxFileBytes) + " bytes");
    return parseJsonText(readWholeFile(path), where, limits);
}

} // namespace unirank
