// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/scoring/template_head.h"

#include <algorithm>

namespace unirank::scoring {

TemplateHeadCache::Head TemplateHeadCache::get(const std::vector<std::int32_t> &ids, std::size_t length,
                                               const std::function<model::KVCache(std::size_t)> &compute)
{
    length = std::min(length, ids.size());
    std::lock_guard lock(m_lock);
    const auto shared = std::min(length, m_ids.size());
    const auto common = static_cast<std::size_t>(
        std::mismatch(m_ids.begin(), m_ids.begin() + static_cast<std::ptrdiff_t>(shared), ids.begin()).first - m_ids.begin());
    if (common == 0) {
        if (length == 0)
            return {};
        auto kv = compute(length);
        m_ids.assign(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(length));
        m_kv = std::move(kv);
        return {length, m_kv, true};
    }
    if (common < m_ids.size()) {
        m_kv = m_kv.leading(static_cast<std::int64_t>(common));
        m_ids.resize(common);
    }
    return {common, m_kv, false};
}

void TemplateHeadCache::clear()
{
    std::lock_guard lock(m_lock);
    m_ids.clear();
    m_kv = {};
}

} // namespace unirank::scoring
