// SPDX-License-Identifier: GPL-3.0-or-later
// The scorer's candidate-first path (scorer.h): each distinct candidate prefix (system + candidate, up
// to the query) is computed once, or read from ScorerOptions::candidateCache, and every pair continues
// it with its query and the generation prompt.
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

/// Rows ids[starts[r]:ends[r]] left-padded to the longest, with their attention mask.
torch::Tensor idsTensor(const std::vector<const std::vector<std::int32_t> *> &rows, const std::vector<std::size_t> &starts,
                        const std::vector<std::size_t> &ends, torch::Tensor &mask)
{
    std::size_t longest = 0;
    for (std::size_t r = 0; r < rows.size(); ++r)
        longest = std::max(longest, ends[r] - starts[r]);
    const auto b = static_cast<std::int64_t>(rows.size()), len = static_cast<std::int64_t>(longest);
    auto ids = torch::zeros({b, len}, torch::kLong);
    mask = torch::zeros({b, len}, torch::kLong);
    auto idsA = ids.accessor<std::int64_t, 2>();
    auto maskA = mask.accessor<std::int64_t, 2>();
    for (std::int64_t r = 0; r < b; ++r) {
        const auto &row = *rows[static_cast<std::size_t>(r)];
        const auto from = starts[static_cast<std::size_t>(r)];
        const auto n = static_cast<std::int64_t>(ends[static_cast<std::size_t>(r)] - from);
        const auto pad = len - n; // left padding
        for (std::int64_t i = 0; i < n; ++i) {
            idsA[r][pad + i] = row[from + static_cast<std::size_t>(i)];
            maskA[r][pad + i] = 1;
        }
    }
    return ids;
}

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
    const auto run = [&](const std::vector<PrefixGroup *> &batch) {
        std::vector<const std::vector<std::int32_t> *> rows;
        std::vector<std::size_t> ends;
        std::vector<torch::Tensor> embeds, grids;
        for (auto *g : batch) {
            rows.push_back(&g->ids);
            ends.push_back(g->ids.size());
            if (g->image) {
                embeds.push_back(g->image->embeds.to(model->device()));
                grids.push_back(g->image->grid);
            }
        }
        model::ForwardInput in;
        in.inputIds = idsTensor(rows, std::vector<std::size_t>(rows.size(), 0), ends, in.attentionMask);
        if (!grids.empty()) {
            in.imageEmbeds = torch::cat(embeds, 0);
            in.imageGridThw = torch::cat(grids, 0);
        }
        model::KVCache cache;
        model::forward(model, in, &cache);
        for (std::size_t r = 0; r < batch.size(); ++r) {
            batch[r]->kv = cache.row(static_cast<std::int64_t>(r));
            m_candidateStats.prefixTokens += batch[r]->ids.size();
            if (m_options.candidateCache)
                m_options.candidateCache->put(batch[r]->key, batch[r]->kv.pack());
        }
    };
    const auto step = static_cast<std::size_t>(m_options.batchSize);
    for (std::size_t start = 0; start < misses.size(); start += step) {
        if (cancelled && cancelled())
            throw Cancelled();
        std::vector<PrefixGroup *> batch(misses.begin() + static_cast<std::ptrdiff_t>(start),
                                         misses.begin() + static_cast<std::ptrdiff_t>(std::min(misses.size(), start + step)));
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
