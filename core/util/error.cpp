// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/util/error.h"

namespace unirank {

std::string SourceLocation::describe() const
{
    std::string out;
    if (!file.empty()) {
        out += file;
        if (line > 0)
            out.append(":").append(std::to_string(line));
        out += ": ";
    } else if (line > 0) {
        out.append("line ").append(std::to_string(line)).append(": ");
    }
    if (!field.empty())
        out.append("field '").append(field).append("': ");
    return out;
}

InputError::InputError(const SourceLocation &where, const std::string &problem)
    : std::runtime_error(where.describe() + problem)
    , m_where(where)
{
}

InputError::InputError(const std::string &message)
    : std::runtime_error(message)
{
}

} // namespace unirank
