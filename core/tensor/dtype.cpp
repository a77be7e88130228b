// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/tensor/dtype.h"

#include <array>
#include <utility>

namespace unirank::tensor {
namespace {

struct DTypeRow {
    DType type;
    std::string_view name;
    std::size_t size;
};

constexpr std::array kRows{
    DTypeRow{DType::Bool, "BOOL", 1}, DTypeRow{DType::U8, "U8", 1},       DTypeRow{DType::I8, "I8", 1},
    DTypeRow{DType::F8_E5M2, "F8_E5M2", 1}, DTypeRow{DType::F8_E4M3, "F8_E4M3", 1},
    DTypeRow{DType::I16, "I16", 2},   DTypeRow{DType::U16, "U16", 2},     DTypeRow{DType::F16, "F16", 2},
    DTypeRow{DType::BF16, "BF16", 2}, DTypeRow{DType::I32, "I32", 4},     DTypeRow{DType::U32, "U32", 4},
    DTypeRow{DType::F32, "F32", 4},   DTypeRow{DType::F64, "F64", 8},     DTypeRow{DType::I64, "I64", 8},
    DTypeRow{DType::U64, "U64", 8},
};

const DTypeRow &row(DType type)
{
    return kRows[static_cast<std::size_t>(std::to_underlying(type))];
}

} // namespace

std::size_t dtypeSize(DType type)
{
    return row(type).size;
}

std::string_view dtypeName(DType type)
{
    return row(type).name;
}

std::optional<DType> parseDType(std::string_view name)
{
    for (const auto &r : kRows)
        if (r.name == name)
            return r.type;
    return std::nullopt;
}

} // namespace unirank::tensor
