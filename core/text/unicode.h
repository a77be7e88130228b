// SPDX-License-Identifier: GPL-3.0-or-later
// Unicode helpers for the tokenizer: NFC (ICU), code point iteration and encoding, lossy UTF-8
// decoding (maximal invalid subparts become U+FFFD, as Python's errors="replace").
// Pure functions, thread-safe. toNfc throws InputError for invalid UTF-8.
#pragma once

#include <string>
#include <string_view>

namespace unirank::text {

std::string toNfc(std::string_view utf8);
void appendUtf8(std::string &out, char32_t cp);
/// Decodes the code point at `pos` of valid UTF-8 and advances `pos`.
char32_t nextCodepoint(std::string_view utf8, std::size_t &pos);
std::string decodeUtf8Lossy(std::string_view bytes);

} // namespace unirank::text
