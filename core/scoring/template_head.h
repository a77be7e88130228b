// SPDX-License-Identifier: GPL-3.0-or-later
// Keys and values of a prompt template's head: the ids before any query or candidate (system turn,
// instruction), the same for every pair a model scores. One is kept per ScoringModel and shared by
// every Scorer, so a request computes only its queries' and candidates' tokens.
//
// Where BPE merges the template's last characters into a query's first word, that query's head is
// shorter: the kept head shrinks to the ids both share (attention is causal, so the leading keys are
// what those tokens alone give).
//
// Threading: every member is safe to call from any thread; a computation runs under the lock, so two
// requests never compute the same head twice. Ownership: the returned cache shares tensors with the
// kept one; forwards extend copies and never modify cached tensors. The weights must not change while
// a head is kept (clear() after changing them).
#pragma once

#include "core/model/kv_cache.h"

#include <cstdint>
#include <functional>
#include <mutex>
#include <vector>

namespace unirank::scoring {

class TemplateHeadCache {
public:
    struct Head {
        std::size_t length = 0; ///< ids of the head (a prefix of the ids asked for)
        model::KVCache kv;      ///< empty when length is 0
        bool computed = false;  ///< this call computed it
    };
    /// The kept head as far as `ids[0:length]` start with it; computed by `compute(length)` (keys and
    /// values of `ids[0:length]`) when they share nothing with it. Exceptions from `compute` propagate
    /// and keep nothing.
    Head get(const std::vector<std::int32_t> &ids, std::size_t length,
             const std::function<model::KVCache(std::size_t)> &compute);
    void clear();

private:
    std::mutex m_lock;
    std::vector<std::int32_t> m_ids;
    model::KVCache m_kv;
};

} // namespace unirank::scoring
