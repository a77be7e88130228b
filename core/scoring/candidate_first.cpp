// SPDX-License-Identifier: GPL-3.0-or-later
// The scorer's candidate-first path (scorer.h): each distinct candidate prefix (system + candidate, up
// to the query) is computed once, packed after the model's template head, or read from
// ScorerOptions::candidateCache, and every pair continues it with its query and the generation prompt
// (packed too, over the batch's prefixes laid one after another).
#include "core/model/qwen2vl.h"
#include "core/model/rope_index.h"
#include "core/scoring/scorer.h"
#include "core/scoring/scorer_internal.h"
#include "core/util/sha256.h"

#include <algorithm>
#include <map>
#include <numeric>
#include <set>

namespace unirank::scoring {

using detail::firstLine;
using detail::kStackBytes;
using detail::kTokensPerBatchRow;
using detail::processorKey;

namespace {

/// Distinct candidate prefixes held at once: their keys and values are what a chunk keeps in memory.
constexpr std::size_t kPrefixesPerChunk = 64;

} // namespace

bool Scorer::reusesCandidates() const
{
    return m_options.prefixCache && m_options.candidateReuse && !m_options.textAsImage && m_model->prompt->candidateFirst();
}

std::vector<std::vector<CandidateScore>> Scorer::scoreQueries(const std::vector<ScoringQuery> &queries,
                                                              const CancelCheck &cancelled, const ScoreProgress &progress)
{
    if (reusesCandidates())
        return scoreCandidateFirst(queries, cancelled, progress);
    return scoreQueryFirst(queries, cancelled, progress);
}

void Scorer::computePrefixes(std::vector<PrefixGroup *> &groups, const CancelCheck &cancelled)
{
    auto &model = m_model->model;
    const auto &tokens = model->config().tokens;
    const auto merge = model->config().vision.spatialMergeSize;
    std::vector<PrefixGroup *> misses;
    for (auto *g : groups) {
        std::optional<torch::Tensor> hit;
        if (m_options.candidateCache)
            hit = m_options.candidateCache->get(g->key);
        if (!hit) {
            misses.push_back(g);
            continue;
        }
        ++m_candidateStats.prefixHits;
        // Where the query's positions continue follows from the prefix ids and the image's grid.
        const auto ids = torch::tensor(std::vector<std::int64_t>(g->ids.begin(), g->ids.end())).view({1, -1});
        const auto next = model::computeRopeIndex(ids, g->image ? g->image->grid : torch::Tensor(), {}, tokens, merge).nextPosition;
        g->kv = model::KVCache::unpack(hit->to(model->device()), next);
    }
    std::stable_sort(misses.begin(), misses.end(), [](const PrefixGroup *a, const PrefixGroup *b) { return a->ids.size() < b->ids.size(); });
    // The template's head (the system turn) is the model's (TemplateHeadCache); the misses' candidate
    // parts run packed after it, each seeing the head and itself.
    const auto run = [&](const std::vector<PrefixGroup *> &batch) {
        TemplateHeadCache::Head head;
        for (const auto *g : batch)
            head = templateHead(g->ids, g->headLength);
        const auto h = static_cast<std::int64_t>(head.length);
        PackBuilder pack(model, h);
        const auto start = h > 0 ? head.kv.nextPosition.to(torch::kCPU).view({1}) : torch::Tensor();
        std::vector<std::pair<std::int64_t, std::int64_t>> visible;
        if (h > 0)
            visible.emplace_back(0, h);
        std::vector<std::size_t> segments;
        for (const auto *g : batch)
            segments.push_back(pack.add(g->ids, head.length, g->ids.size(), {g->image}, start, visible));
        const auto in = pack.input({}, m_model->prompt->positiveId(), m_model->prompt->negativeId());
        model::KVCache cache = head.kv; // a copy: the forward extends it, never the kept head
        model::forward(model, in, &cache);
        for (std::size_t r = 0; r < batch.size(); ++r) {
            const auto offset = pack.keyOffset(segments[r]), length = pack.length(segments[r]);
            model::KVCache part;
            for (const auto &k : cache.keys)
                part.keys.push_back(k.narrow(2, offset, length));
            for (const auto &v : cache.values)
                part.values.push_back(v.narrow(2, offset, length));
            part.keyMask = cache.keyMask.narrow(1, offset, length);
            part.nextPosition = pack.nextPosition(segments[r]);
            batch[r]->kv = h > 0 ? model::KVCache::concatenate({head.kv, part}) : part;
            m_candidateStats.prefixTokens += static_cast<std::size_t>(length);
            if (m_options.candidateCache)
                m_options.candidateCache->put(batch[r]->key, batch[r]->kv.pack());
        }
    };
    const auto budget = std::min(detail::kMaxPackTokens, static_cast<std::size_t>(m_options.batchSize) * kTokensPerBatchRow);
    for (std::size_t next = 0; next < misses.size();) {
        if (cancelled && cancelled())
            throw Cancelled();
        std::vector<PrefixGroup *> batch;
        std::size_t packTokens = 0;
        for (; next < misses.size() && (batch.empty() || packTokens + misses[next]->ids.size() <= budget); ++next) {
            packTokens += misses[next]->ids.size();
            batch.push_back(misses[next]);
        }
        try {
            run(batch);
        } catch (const std::logic_error &) {
            throw;
        } catch (const std::exception &) { // one prefix (a huge image, say) must not fail the others
            for (auto *g : batch) {
                try {
                    run({g});
                } catch (const std::logic_error &) {
                    throw;
                } catch (const std::exception &e) {
                    g->error = "could not be scored: " + firstLine(e.what());
                }
            }
        }
    }
}

void Scorer::runContinuations(std::vector<Prepared *> &rows, const std::vector<const PrefixGroup *> &groups,
                              const std::vector<const Image *> &queryImages)
{
    auto &model = m_model->model;
    // The distinct prefixes one after another as the pack's cache (a group's rows are together); each
    // row attends to its own prefix and itself, from where its prefix ends.
    std::vector<model::KVCache> parts;
    std::vector<std::int64_t> offsets;
    std::int64_t keys = 0;
    for (std::size_t r = 0; r < rows.size(); ++r) {
        if (r == 0 || groups[r] != groups[r - 1]) {
            parts.push_back(groups[r]->kv);
            keys += groups[r]->kv.length();
        }
        offsets.push_back(keys - groups[r]->kv.length());
    }
    auto cache = model::KVCache::concatenate(parts);
    PackBuilder pack(model, keys);
    std::vector<std::size_t> scored;
    for (std::size_t r = 0; r < rows.size(); ++r) {
        const auto *p = rows[r];
        const auto &kv = groups[r]->kv;
        scored.push_back(pack.add(p->ids, p->queryStart, p->ids.size(), {queryImages[r]}, kv.nextPosition.to(torch::kCPU).view({1}),
                                  {{offsets[r], offsets[r] + kv.length()}}));
        m_candidateStats.pairTokens += p->ids.size() - p->queryStart;
    }
    auto in = pack.input(scored, m_model->prompt->positiveId(), m_model->prompt->negativeId());
    const auto logits = model::forward(model, in, &cache).logits.to(torch::kCPU, torch::kFloat64);
    const double temperature = m_model->prompt->prompt().temperature;
    for (std::size_t r = 0; r < rows.size(); ++r) {
        auto &res = rows[r]->result;
        const auto i = static_cast<std::int64_t>(r);
        res.margin = logits[0][i][0].item<double>() - logits[0][i][1].item<double>();
        res.probability = detail::sigmoid(res.margin);
        res.calibrated = detail::sigmoid(res.margin / temperature);
    }
}

std::vector<std::vector<CandidateScore>> Scorer::scoreCandidateFirst(const std::vector<ScoringQuery> &queries,
                                                                     const CancelCheck &cancelled,
                                                                     const ScoreProgress &progress)
{
    c10::InferenceMode inference;
    auto &model = m_model->model;
    m_candidateStats = {};
    m_lastPrefixTokens = 0;
    // Query images once each; a query whose image fails fails all its pairs, the others go on.
    std::vector<Image> queryImages(queries.size());
    std::vector<std::string> queryErrors(queries.size());
    for (std::size_t q = 0; q < queries.size(); ++q)
        if (!queries[q].image.empty()) {
            try {
                queryImages[q] = encodeImage(queries[q].image, queries[q].imageHash, true);
            } catch (const std::exception &e) {
                queryErrors[q] = std::string("the query image: ") + firstLine(e.what());
            }
        }
    // Candidate images once each (a drawing in ten lists is decoded once; a cached one not at all),
    // then every pair's prompt.
    std::map<std::string, Image> images;
    std::map<std::string, std::string> imageErrors;
    {
        std::vector<ImageJob> jobs;
        std::vector<std::string> keys;
        std::set<std::string> seen;
        for (std::size_t q = 0; q < queries.size(); ++q) {
            if (!queryErrors[q].empty())
                continue;
            for (const auto &c : queries[q].candidates) {
                if (c.image.empty())
                    continue;
                auto key = c.image.string() + "\n" + c.imageHash;
                if (!seen.insert(key).second)
                    continue;
                keys.push_back(std::move(key));
                jobs.push_back({c.image, c.imageHash});
            }
        }
        auto encoded = encodeImages(jobs);
        for (std::size_t k = 0; k < keys.size(); ++k) {
            if (!encoded[k].error.empty()) {
                imageErrors.emplace(keys[k], encoded[k].error);
                continue;
            }
            encoded[k].image.pixels = torch::Tensor(); // the embeddings are what the prefix needs
            images.emplace(keys[k], std::move(encoded[k].image));
        }
    }
    if (cancelled && cancelled())
        throw Cancelled();
    std::vector<std::vector<Prepared>> prepared(queries.size());
    std::size_t total = 0;
    for (std::size_t q = 0; q < queries.size(); ++q) {
        prepared[q].reserve(queries[q].candidates.size());
        for (std::size_t i = 0; i < queries[q].candidates.size(); ++i) {
            if (cancelled && cancelled())
                throw Cancelled();
            const auto &c = queries[q].candidates[i];
            Prepared p;
            if (!queryErrors[q].empty()) {
                p.result = {c.id, queryErrors[q]};
            } else {
                const Image *encoded = nullptr;
                if (!c.image.empty()) {
                    const auto key = c.image.string() + "\n" + c.imageHash;
                    if (const auto err = imageErrors.find(key); err != imageErrors.end())
                        p.result = {c.id, err->second};
                    else
                        encoded = &images.at(key);
                }
                if (p.result.error.empty())
                    p = prepare(queries[q].text, queryImages[q].tokens, c, true, encoded);
            }
            p.index = i;
            prepared[q].push_back(std::move(p));
            ++total;
        }
    }
    // Pairs grouped by their candidate prefix, the groups in order of length (similar lengths batch well).
    std::map<std::string, PrefixGroup> byKey;
    const auto params = "candidate-prefix;" + processorKey(m_model->imageConfig, model->dtype());
    for (std::size_t q = 0; q < queries.size(); ++q)
        for (auto &p : prepared[q]) {
            if (!p.result.ok())
                continue;
            if (p.queryStart == 0 || p.queryStart > p.ids.size())
                throw std::logic_error("a candidate-first prompt without a query start");
            std::string content(reinterpret_cast<const char *>(p.ids.data()), p.queryStart * sizeof(std::int32_t));
            content += "\n" + (p.image.grid.defined() ? p.image.hash : std::string());
            const auto key = EmbeddingCache::makeKey(m_model->weightsHash, sha256Hex(content), params);
            auto &g = byKey[key];
            if (g.key.empty()) {
                g.key = key;
                g.ids.assign(p.ids.begin(), p.ids.begin() + static_cast<std::ptrdiff_t>(p.queryStart));
                g.headLength = std::min(p.headLength, p.queryStart - 1); // a prefix keeps a token of its own
                g.image = p.image.grid.defined() ? &p.image : nullptr;
            }
            g.pairs.push_back(&p);
        }
    std::vector<PrefixGroup *> groups;
    for (auto &[key, g] : byKey)
        groups.push_back(&g);
    std::stable_sort(groups.begin(), groups.end(), [](const PrefixGroup *a, const PrefixGroup *b) { return a->ids.size() < b->ids.size(); });
    // Which query each prepared pair belongs to (for the query image of its continuation).
    std::map<const Prepared *, std::size_t> owner;
    for (std::size_t q = 0; q < queries.size(); ++q)
        for (const auto &p : prepared[q])
            owner[&p] = q;
    m_candidateStats.prefixes = groups.size();
    const std::size_t bytesPerToken = detail::kvBytesPerToken(model);
    std::size_t done = std::accumulate(groups.begin(), groups.end(), total, [](std::size_t left, const PrefixGroup *g) {
        return left - g->pairs.size();
    }); // pairs that failed before the model
    for (std::size_t start = 0; start < groups.size(); start += kPrefixesPerChunk) {
        std::vector<PrefixGroup *> chunk(groups.begin() + static_cast<std::ptrdiff_t>(start),
                                         groups.begin() + static_cast<std::ptrdiff_t>(std::min(groups.size(), start + kPrefixesPerChunk)));
        computePrefixes(chunk, cancelled);
        // The chunk's pairs, a group's pairs together (a batch of one group shares its cache without copies).
        std::vector<std::pair<Prepared *, const PrefixGroup *>> rows;
        for (auto *g : chunk)
            for (auto *p : g->pairs) {
                if (!g->error.empty())
                    p->result.error = g->error;
                else
                    rows.emplace_back(p, g);
            }
        const auto tokenBudget = std::min(detail::kMaxPackTokens, static_cast<std::size_t>(m_options.batchSize) * kTokensPerBatchRow);
        for (std::size_t r = 0; r < rows.size();) {
            if (cancelled && cancelled())
                throw Cancelled();
            std::vector<Prepared *> batch;
            std::vector<const PrefixGroup *> batchGroups;
            std::vector<const Image *> batchImages;
            std::size_t tokens = 0, prefixKeys = 0;
            for (; r < rows.size(); ++r) {
                const auto *p = rows[r].first;
                const auto length = tokens + p->ids.size() - p->queryStart;
                const auto keys = prefixKeys + (batchGroups.empty() || batchGroups.back() != rows[r].second ? rows[r].second->ids.size() : 0);
                if (!batch.empty() && (length > tokenBudget || keys * bytesPerToken > kStackBytes))
                    break;
                tokens = length;
                prefixKeys = keys;
                batch.push_back(rows[r].first);
                batchGroups.push_back(rows[r].second);
                batchImages.push_back(&queryImages[owner.at(rows[r].first)]);
            }
            try {
                runContinuations(batch, batchGroups, batchImages);
            } catch (const std::logic_error &) {
                throw;
            } catch (const std::exception &) {
                for (std::size_t i = 0; i < batch.size(); ++i) {
                    std::vector<Prepared *> one{batch[i]};
                    try {
                        runContinuations(one, {batchGroups[i]}, {batchImages[i]});
                    } catch (const std::logic_error &) {
                        throw;
                    } catch (const std::exception &e) {
                        batch[i]->result.error = "could not be scored: " + firstLine(e.what());
                    }
                }
            }
        }
        for (auto *g : chunk) {
            done += g->pairs.size();
            g->kv = {}; // the chunk's keys and values go; the candidate cache keeps what it may
        }
        if (progress && total > 0)
            progress(queries.size() * done / total, queries.size());
    }
    m_candidateStats.pairs = total;
    std::vector<std::vector<CandidateScore>> out(queries.size());
    for (std::size_t q = 0; q < queries.size(); ++q)
        for (auto &p : prepared[q])
            out[q].push_back(std::move(p.result));
    return out;
}

} // namespace unirank::scoring
