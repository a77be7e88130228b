// SPDX-License-Identifier: GPL-3.0-or-later
// SHA-256 content hashes (lower-case hex), used to address images and model weights.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace unirank {

std::string sha256Hex(std::string_view bytes);

/// Hashes a file in chunks. Throws InputError naming the file if it cannot be read.
std::string sha256File(const std::filesystem::path &path);

} // namespace unirank
