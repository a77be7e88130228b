// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/formats/line_reader.h"

#include "core/util/atomic_file.h"
#include "core/util/utf8.h"

#include <array>
#include <charconv>
#include <cmath>

namespace fs = std::filesystem;

namespace unirank {

std::string readTextFile(const fs::path &path, const LineReaderLimits &limits)
{
    std::error_code ec;
    if (fs::exists(path, ec) && !fs::is_regular_file(path, ec))
        throw InputError(SourceLocation{path.filename().string()}, "not a regular file");
    const auto size = fs::file_size(path, ec);
    if (ec)
        throw InputError(SourceLocation{path.filename().string()}, "cannot read file: " + ec.message());
    if (size > limits.maxFileBytes)
        throw InputError(SourceLocation{path.filename().string()}, "file is larger than " +
                                                            std::to_string(limits.maxFileBytes) + " bytes");
    return readWholeFile(path);
}

void forEachLine(const fs::path &path, const std::function<void(std::string_view, std::int64_t)> &onLine,
                 const LineReaderLimits &limits)
{
    forEachLineIn(readTextFile(path, limits), path.filename().string(), onLine, limits);
}

void forEachLineIn(std::string_view data, const std::string &fileName,
                   const std::function<void(std::string_view, std::int64_t)> &onLine, const LineReaderLimits &limits)
{
    std::string_view rest(data);
    if (rest.starts_with("\xEF\xBB\xBF"))
        rest.remove_prefix(3);
    std::int64_t lineNo = 0;
    while (!rest.empty()) {
        ++lineNo;
        const auto nl = rest.find('\n');
        std::string_view line = rest.substr(0, nl);
        rest = nl == std::string_view::npos ? std::string_view{} : rest.substr(nl + 1);
        if (line.ends_with('\r'))
            line.remove_suffix(1);
        const SourceLocation where{fileName, lineNo};
        if (line.size() > limits.maxLineBytes)
            throw InputError(where, "line is longer than " + std::to_string(limits.maxLineBytes) + " bytes");
        if (const auto bad = findInvalidUtf8(line))
            throw InputError(where, "invalid UTF-8 at byte " + std::to_string(*bad + 1) + " of the line");
        if (line.find('\0') != std::string_view::npos)
            throw InputError(where, "NUL character in a text file");
        onLine(line, lineNo);
    }
}

std::vector<std::string_view> splitWhitespace(std::string_view line)
{
    std::vector<std::string_view> out;
    std::size_t i = 0;
    const auto isSpace = [](char c) { return c == ' ' || c == '\t' || c == '\v' || c == '\f' || c == '\r'; };
    while (i < line.size()) {
        while (i < line.size() && isSpace(line[i]))
            ++i;
        const std::size_t start = i;
        while (i < line.size() && !isSpace(line[i]))
            ++i;
        if (i > start)
            out.push_back(line.substr(start, i - start));
    }
    return out;
}

namespace {
/// A token as an error message quotes it: at most 40 bytes (a hostile line may be megabytes long).
std::string quoted(std::string_view token)
{
    constexpr std::size_t kShown = 40;
    if (token.size() <= kShown)
        return "'" + std::string(token) + "'";
    return "'" + std::string(token.substr(0, kShown)) + "...' (" + std::to_string(token.size()) + " bytes)";
}

/// from_chars takes no '+'; accept one leading '+' before a digit or '.', as strtod does.
const char *numberStart(std::string_view token)
{
    if (token.size() > 1 && token.front() == '+' && token[1] != '-' && token[1] != '+')
        return token.data() + 1;
    return token.data();
}
} // namespace

int parseInt(std::string_view token, const SourceLocation &where)
{
    int value = 0;
    const auto [ptr, ec] = std::from_chars(numberStart(token), token.data() + token.size(), value);
    if (ec != std::errc{} || ptr != token.data() + token.size() || token.empty())
        throw InputError(where, "expected an integer, found " + quoted(token));
    return value;
}

double parseDouble(std::string_view token, const SourceLocation &where)
{
    double value = 0;
    const auto [ptr, ec] = std::from_chars(numberStart(token), token.data() + token.size(), value);
    if (ec != std::errc{} || ptr != token.data() + token.size() || token.empty())
        throw InputError(where, "expected a number, found " + quoted(token));
    if (!std::isfinite(value))
        throw InputError(where, "number is not finite: " + quoted(token));
    return value;
}

std::string formatDouble(double value)
{
    std::array<char, 64> buf{};
    const auto [ptr, ec] = std::to_chars(buf.data(), buf.data() + buf.size(), value);
    return std::string(buf.data(), ec == std::errc{} ? ptr : buf.data());
}

} // namespace unirank
