// SPDX-License-Identifier: GPL-3.0-or-later
// Error types shared by every layer.
//
// Rule (see ARCHITECTURE.md): inside core and storage, bad outside data throws InputError, which carries
// where the problem is (file, line, field). At I/O and thread boundaries errors become values:
// Result<T> = std::expected<T, Error> (storage::capture converts). Anything else thrown is internal.
#pragma once

#include <cstdint>
#include <expected>
#include <stdexcept>
#include <string>

namespace unirank {

enum class ErrorKind {
    BadInput, ///< the user's data or arguments are wrong; the message says where
    Busy,     ///< the project is locked by another writer for longer than the busy timeout
    Internal, ///< a bug or an environment failure (disk full, I/O error)
};

struct Error {
    ErrorKind kind = ErrorKind::Internal;
    std::string message;
};

template <typename T>
using Result = std::expected<T, Error>;

/// Where in an input file a problem is. Every field is optional; `describe()` joins the known ones
/// as "file:line: field 'x': ".
struct SourceLocation {
    std::string file = {};
    std::int64_t line = 0; ///< 1-based; 0 = unknown or whole file
    std::string field = {};

    std::string describe() const;
};

/// Bad outside data or arguments. what() is the full message including the location.
class InputError : public std::runtime_error {
public:
    InputError(const SourceLocation &where, const std::string &problem);
    explicit InputError(const std::string &message);

    const SourceLocation &where() const noexcept { return m_where; }

private:
    SourceLocation m_where;
};

} // namespace unirank
