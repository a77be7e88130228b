// SPDX-License-Identifier: GPL-3.0-or-later
// JSON from outside files (model folders, datasets, prompt templates, settings). nlohmann's parser is
// iterative, but copying, dumping and comparing a value recurse once per nesting level: a line of a
// million '[' would exhaust the stack long after parsing succeeded. So every outside JSON text is parsed
// here, with a nesting limit far above what any real file of ours uses (tokenizer.json: 4 levels), and
// files are size-checked before they are read.
//
// Errors: InputError naming the source (file, line) — "not valid JSON: ...", "nested deeper than N
// levels" or "larger than N bytes". Thread-safe (no state).
#pragma once

#include "core/util/error.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <filesystem>
#include <string_view>

namespace unirank {

struct JsonLimits {
    int maxDepth = 64;                      ///< objects and arrays nested deeper are rejected
    std::uintmax_t maxFileBytes = 256u << 20; ///< readJsonFile: a larger file is not read at all
};

/// Parses one JSON text. `where` names the file (and line, for JSONL) in errors.
nlohmann::json parseJsonText(std::string_view text, const SourceLocation &where, const JsonLimits &limits = {});

/// A JSON integer within [min, max]. nlohmann's get<int>() of 1e40 or of 2^64-1 is undefined behaviour or
/// a silent wrap; outside numbers go through this. InputError at `where` otherwise.
std::int64_t integerIn(const nlohmann::json &value, const SourceLocation &where, std::int64_t min, std::int64_t max);

/// A JSON number (integer or not) as a double; InputError at `where` for anything else.
double numberValue(const nlohmann::json &value, const SourceLocation &where);
/// The same, and it must fit a float (a double -> float conversion out of range is undefined).
float floatValue(const nlohmann::json &value, const SourceLocation &where);

/// Reads and parses a JSON file; errors name the file.
nlohmann::json readJsonFile(const std::filesystem::path &path, const JsonLimits &limits = {});

} // namespace unirank
