// SPDX-License-Identifier: GPL-3.0-or-later
// Line-oriented reading of outside text files with the checks every format shares: UTF-8 validity,
// a line-length bound, CRLF and a leading BOM tolerated. Errors name the file and the 1-based line.
#pragma once

#include "core/util/error.h"

#include <cstdint>
#include <filesystem>
#include <functional>
#include <string>
#include <string_view>
#include <vector>

namespace unirank {

struct LineReaderLimits {
    std::size_t maxLineBytes = 16u << 20; ///< a longer line is rejected, not truncated
    std::uintmax_t maxFileBytes = 4ull << 30;
};

/// Calls `onLine(line, lineNumber)` for each line, without the line ending. Empty lines are passed
/// too; the callback decides. Throws InputError for unreadable files, invalid UTF-8 or long lines.
void forEachLine(const std::filesystem::path &path,
                 const std::function<void(std::string_view, std::int64_t)> &onLine,
                 const LineReaderLimits &limits = {});

/// Reads a whole file after checking its size against `limits`; throws InputError naming the file (by
/// its name, as the line errors do).
std::string readTextFile(const std::filesystem::path &path, const LineReaderLimits &limits = {});

/// The same over text already in memory; `fileName` names it in errors.
void forEachLineIn(std::string_view data, const std::string &fileName,
                   const std::function<void(std::string_view, std::int64_t)> &onLine,
                   const LineReaderLimits &limits = {});

/// Splits on runs of ASCII whitespace (TREC formats).
std::vector<std::string_view> splitWhitespace(std::string_view line);

/// Strict number parsing: the whole token must be a number. Throws InputError at `where`.
int parseInt(std::string_view token, const SourceLocation &where);
double parseDouble(std::string_view token, const SourceLocation &where);

/// Formats a double with the shortest text that reads back to the same value.
std::string formatDouble(double value);

} // namespace unirank
