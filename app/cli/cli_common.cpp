// SPDX-License-Identifier: GPL-3.0-or-later
#include "cli_common.h"

#include <iostream>

namespace unirank::cli {

int reportError(const Error &error)
{
    const char *label = error.kind == ErrorKind::Busy ? "busy" : "error";
    std::cerr << "unirank-cli: " << label << ": " << error.message << "\n";
    return error.kind == ErrorKind::BadInput ? kExitBadInput : kExitInternal;
}

} // namespace unirank::cli
