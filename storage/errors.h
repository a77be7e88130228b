// SPDX-License-Identifier: GPL-3.0-or-later
// Turns exceptions from core and storage into Result values at the storage API boundary.
#pragma once

#include "core/util/error.h"
#include "storage/db/database.h"

namespace unirank::storage {

template <typename F>
auto capture(F &&f) -> Result<decltype(f())>
{
    try {
        if constexpr (std::is_void_v<decltype(f())>) {
            f();
            return {};
        } else {
            return f();
        }
    } catch (const StorageError &e) {
        return std::unexpected(Error{e.kind(), e.what()});
    } catch (const InputError &e) {
        return std::unexpected(Error{ErrorKind::BadInput, e.what()});
    } catch (const std::exception &e) {
        return std::unexpected(Error{ErrorKind::Internal, e.what()});
    }
}

} // namespace unirank::storage
