// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/model/kv_cache.h"

#include "core/util/error.h"

namespace unirank::model {

KVCache KVCache::expandBatch(std::int64_t n) const
{
    if (empty())
        return *this;
    if (keyMask.size(0) != 1)
        throw InputError("KVCache::expandBatch needs a cache of one row");
    KVCache out;
    for (const auto &k : keys)
        out.keys.push_back(k.expand({n, -1, -1, -1}));
    for (const auto &v : values)
        out.values.push_back(v.expand({n, -1, -1, -1}));
    out.keyMask = keyMask.expand({n, -1});
    out.nextPosition = nextPosition.expand({n}).clone();
    return out;
}

} // namespace unirank::model
