// SPDX-License-Identifier: GPL-3.0-or-later
// UTF-8 validation (RFC 3629: no overlongs, no surrogates, nothing above U+10FFFF).
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace unirank {

/// Byte offset of the first invalid sequence, or nullopt when `text` is valid UTF-8.
std::optional<std::size_t> findInvalidUtf8(std::string_view text);

inline bool isValidUtf8(std::string_view text) { return !findInvalidUtf8(text).has_value(); }

} // namespace unirank
