// SPDX-License-Identifier: GPL-3.0-or-later
// Element types of the safetensors format (names as written in the header) and their sizes.
#pragma once

#include <cstddef>
#include <optional>
#include <string_view>

namespace unirank::tensor {

enum class DType { Bool, U8, I8, F8_E5M2, F8_E4M3, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64 };

std::size_t dtypeSize(DType type);
std::string_view dtypeName(DType type);               ///< "F32", "BF16", ...
std::optional<DType> parseDType(std::string_view name); ///< nullopt for an unknown name

} // namespace unirank::tensor
