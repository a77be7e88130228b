// SPDX-License-Identifier: GPL-3.0-or-later
// The scorer's query-first path (scorer.h): the template head's keys and values come from the model's
// TemplateHeadCache, and the rest of a few queries' prompts run packed: one sequence holds each query's
// part of its prefix once and then its pairs' candidate parts, every token attending to the head, its
// own query's part and its own segment (ForwardInput::allowedKeys), with the positions each part has
// in its own prompt. No padding is computed and one GEMM takes every row.
#include "core/model/qwen2vl.h"
#include "core/scoring/scorer.h"
#include "core/scoring/scorer_internal.h"

#include <algorithm>

namespace unirank::scoring {

using detail::firstLine;

namespace {

/// Rows' tokens of the queries started before their pairs are run (per row of batchSize): a few packs'
/// worth, so packs fill across queries, while the queries' image embeddings stay few.
constexpr std::size_t kChunkBatches = 4;


} // namespace

std::vector<CandidateScore> Scorer::scoreQuery(const ScoringQuery &query, const CancelCheck &cancelled)
{
    if (reusesCandidates())
        return std::move(scoreCandidateFirst({query}, cancelled, {}).front());
    return std::move(scoreQueryFirst({query}, cancelled, {}).front());
}

std::vector<std::vector<CandidateScore>> Scorer::scoreQueryFirst(const std::vector<ScoringQuery> &queries,
                                                                 const CancelCheck &cancelled, const ScoreProgress &progress)
{
    c10::InferenceMode inference;
    m_batchStats = {};
    const auto chunkTokens = static_cast<std::size_t>(m_options.batchSize) * detail::kTokensPerBatchRow * kChunkBatches;
    std::vector<std::vector<CandidateScore>> out(queries.size());
    std::vector<QueryWork> chunk;
    std::size_t first = 0, tokens = 0;
    const auto flush = [&](std::size_t end) {
        runChunk(chunk, cancelled);
        for (std::size_t k = 0; k < chunk.size(); ++k)
            for (auto &p : chunk[k].prepared)
                out[first + k].push_back(std::move(p.result));
        chunk.clear();
        first = end;
        tokens = 0;
        if (progress)
            progress(end, queries.size());
    };
    for (std::size_t i = 0; i < queries.size(); ++i) {
        chunk.push_back(startQuery(queries[i], cancelled));
        for (const auto &p : chunk.back().prepared)
            if (p.result.ok())
                tokens += p.ids.size() - chunk.back().prefixLength;
        if (tokens >= chunkTokens || i + 1 == queries.size())
            flush(i + 1);
    }
    return out;
}

Scorer::QueryWork Scorer::startQuery(const ScoringQuery &query, const CancelCheck &cancelled)
{
    QueryWork w;
    if (!query.image.empty()) {
        try {
            w.queryImage = encodeImage(query.image, query.imageHash, true);
        } catch (const std::exception &e) { // every candidate of this query fails, the job goes on
            for (const auto &c : query.candidates) {
                Prepared failed;
                failed.result = {c.id, std::string("the query image: ") + firstLine(e.what())};
                w.prepared.push_back(std::move(failed));
            }
            return w;
        }
    }
    // The list's images first (cache hits without decoding, misses decoded on a few threads).
    std::vector<ImageJob> jobs;
    for (const auto &c : query.candidates)
        if (!c.image.empty())
            jobs.push_back({c.image, c.imageHash});
    auto images = encodeImages(jobs);
    if (cancelled && cancelled())
        throw Cancelled();
    w.prepared.reserve(query.candidates.size());
    for (std::size_t i = 0, image = 0; i < query.candidates.size(); ++i) {
        const auto &c = query.candidates[i];
        const EncodedImage *encoded = c.image.empty() ? nullptr : &images[image++];
        if (encoded && !encoded->error.empty()) {
            Prepared failed;
            failed.result = {c.id, encoded->error};
            w.prepared.push_back(std::move(failed));
        } else {
            w.prepared.push_back(prepare(query.text, w.queryImage.tokens, c, true, encoded ? &encoded->image : nullptr));
        }
        w.prepared.back().index = i;
    }
    const Prepared *firstOk = nullptr;
    for (const auto &p : w.prepared)
        if (p.result.ok() && !firstOk)
            firstOk = &p;
    m_lastPrefixTokens = 0;
    if (!m_options.prefixCache || !firstOk)
        return w;
    // The shared prefix: the ids every candidate's prompt starts with, and nothing that could depend on
    // the candidate (BPE may merge the last template characters into the candidate's first word).
    const auto &ids = firstOk->ids;
    std::size_t length = firstOk->candidateStart;
    for (const auto &p : w.prepared) {
        if (!p.result.ok())
            continue;
        length = std::min(length, p.candidateStart);
        const auto mismatch = std::mismatch(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(length), p.ids.begin());
        length = static_cast<std::size_t>(mismatch.first - ids.begin());
    }
    const auto pads = std::count(ids.begin(), ids.begin() + static_cast<std::ptrdiff_t>(length), m_model->prompt->imagePadId());
    if (pads != 0 && pads != w.queryImage.tokens)
        throw std::logic_error("the shared prefix cuts through an image");
    w.queryImageInPrefix = pads > 0;
    w.prefixLength = length;
    m_lastPrefixTokens = length;
    if (length == 0)
        return w;
    return w;
}

void Scorer::runChunk(std::vector<QueryWork> &chunk, const CancelCheck &cancelled)
{
    // The head every query of the chunk shares: each call cuts the kept head to what that query shares
    // with it, so the last call's is within every query's prefix.
    TemplateHeadCache::Head head;
    for (const auto &w : chunk)
        for (const auto &p : w.prepared)
            if (p.result.ok() && w.prefixLength > 0) {
                head = templateHead(p.ids, std::min(p.headLength, w.prefixLength));
                break;
            }
    std::vector<std::vector<Row>> packs; // a query's rows together
    const auto budget = std::min(detail::kMaxPackTokens, static_cast<std::size_t>(m_options.batchSize) * detail::kTokensPerBatchRow);
    std::vector<Row> pack;
    std::size_t tokens = 0;
    for (auto &w : chunk) {
        const auto rest = w.prefixLength > 0 ? w.prefixLength - head.length : 0;
        bool queryInPack = false;
        for (auto &p : w.prepared) {
            if (!p.result.ok())
                continue;
            const auto add = p.ids.size() - w.prefixLength + (queryInPack ? 0 : rest);
            if (!pack.empty() && tokens + add > budget) {
                packs.push_back(std::move(pack));
                pack = {};
                tokens = 0;
                queryInPack = false;
            }
            tokens += p.ids.size() - w.prefixLength + (queryInPack ? 0 : rest);
            queryInPack = true;
            pack.push_back({&p, &w});
        }
    }
    if (!pack.empty())
        packs.push_back(std::move(pack));
    for (const auto &rows : packs) {
        if (cancelled && cancelled())
            throw Cancelled();
        ++m_batchStats.batches;
        m_batchStats.rows += rows.size();
        m_batchStats.stacked += rows.front().query != rows.back().query ? 1 : 0;
        runPackOrEach(rows, head);
    }
}

void Scorer::runPackOrEach(const std::vector<Row> &rows, const TemplateHeadCache::Head &head)
{
    try {
        runPack(rows, head);
        return;
    } catch (const std::logic_error &) {
        throw; // a bug, not a candidate's fault
    } catch (const std::exception &e) {
        if (rows.size() == 1) {
            rows.front().pair->result.error = "could not be scored: " + firstLine(e.what());
            return;
        }
    }
    // One candidate (a huge image, say) must not take the others down with it: each alone.
    for (const auto &row : rows)
        runPackOrEach({row}, head);
}

void Scorer::runPack(const std::vector<Row> &rows, const TemplateHeadCache::Head &head)
{
    auto &model = m_model->model;
    const auto h = static_cast<std::int64_t>(head.length);
    const auto headNext = head.length > 0 ? head.kv.nextPosition.to(torch::kCPU).view({1}) : torch::zeros({1}, torch::kLong);
    // A query's part of its prefix once, before its first row; then each row's part, which sees the
    // head and its query's part (none of either for whole prompts).
    PackBuilder pack(model, h);
    std::vector<std::size_t> scored, queryParts;
    const QueryWork *current = nullptr;
    std::vector<std::pair<std::int64_t, std::int64_t>> visible;
    torch::Tensor start;
    for (const auto &row : rows) {
        const auto &w = *row.query;
        const auto *p = row.pair;
        if (row.query != current) {
            current = row.query;
            visible.clear();
            start = torch::Tensor();
            if (w.prefixLength > 0) {
                visible.emplace_back(0, h);
                start = headNext;
            }
            if (w.prefixLength > head.length) {
                std::vector<const Image *> images;
                if (w.queryImageInPrefix)
                    images.push_back(&w.queryImage);
                const auto part = pack.add(p->ids, head.length, w.prefixLength, images, start, visible);
                queryParts.push_back(part);
                visible.emplace_back(pack.keyOffset(part), pack.keyOffset(part) + pack.length(part));
                start = pack.nextPosition(part);
            }
        }
        // The row's images in prompt order, less the query's when the prefix holds it.
        std::vector<const Image *> images;
        const bool queryHere = !w.queryImageInPrefix;
        if (queryHere && p->queryImageFirst)
            images.push_back(&w.queryImage);
        images.push_back(&p->image);
        if (queryHere && !p->queryImageFirst)
            images.push_back(&w.queryImage);
        scored.push_back(pack.add(p->ids, w.prefixLength, p->ids.size(), images, start, visible));
    }
    auto in = pack.input(scored, m_model->prompt->positiveId(), m_model->prompt->negativeId());
    model::KVCache cache = head.kv; // a copy: the forward extends it, never the kept head
    const auto logits = model::forward(model, in, head.length > 0 ? &cache : nullptr).logits.to(torch::kCPU, torch::kFloat64);
    const double temperature = m_model->prompt->prompt().temperature;
    for (std::size_t r = 0; r < rows.size(); ++r) {
        auto &res = rows[r].pair->result;
        const auto i = static_cast<std::int64_t>(r);
        res.margin = logits[0][i][0].item<double>() - logits[0][i][1].item<double>();
        res.probability = detail::sigmoid(res.margin);
        res.calibrated = detail::sigmoid(res.margin / temperature);
    }
    for (const auto part : queryParts) {
        m_prefixTokensComputed += static_cast<std::size_t>(pack.length(part));
        m_batchStats.queryTokens += static_cast<std::size_t>(pack.length(part));
    }
}

void Scorer::runBatch(const std::vector<Row> &batch)
{
    auto &model = m_model->model;
    const auto b = static_cast<std::int64_t>(batch.size());
    std::size_t longest = 0;
    for (const auto &row : batch)
        longest = std::max(longest, row.length());
    const auto len = static_cast<std::int64_t>(longest);
    auto ids = torch::zeros({b, len}, torch::kLong);
    auto mask = torch::zeros({b, len}, torch::kLong);
    auto idsA = ids.accessor<std::int64_t, 2>();
    auto maskA = mask.accessor<std::int64_t, 2>();
    std::vector<torch::Tensor> embeds, pixels, grids;
    const auto add = [&](const Image &img) {
        if (!img.grid.defined())
            return;
        grids.push_back(img.grid);
        if (img.embeds.defined())
            embeds.push_back(img.embeds.to(model->device()));
        else
            pixels.push_back(img.pixels);
    };
    std::vector<Prepared *> pairs;
    for (std::int64_t r = 0; r < b; ++r) {
        const auto &row = batch[static_cast<std::size_t>(r)];
        const auto *p = row.pair;
        const auto from = row.query->prefixLength;
        const auto rowLength = static_cast<std::int64_t>(row.length());
        const auto pad = len - rowLength; // left padding
        for (std::int64_t i = 0; i < rowLength; ++i) {
            idsA[r][pad + i] = p->ids[from + static_cast<std::size_t>(i)];
            maskA[r][pad + i] = 1;
        }
        // The row's images in prompt order, less the query's when the prefix holds it.
        const bool queryHere = !row.query->queryImageInPrefix;
        if (queryHere && p->queryImageFirst)
            add(row.query->queryImage);
        add(p->image);
        if (queryHere && !p->queryImageFirst)
            add(row.query->queryImage);
        pairs.push_back(row.pair);
    }
    model::ForwardInput in;
    in.inputIds = ids;
    in.attentionMask = mask;
    detail::setImages(in, grids, embeds, pixels);
    scoreRows(in, len, nullptr, pairs);
}

CandidateScore Scorer::scoreSinglePair(const ScoringQuery &query, const ScoringCandidate &candidate)
{
    c10::InferenceMode inference;
    QueryWork w;
    if (!query.image.empty())
        w.queryImage = encodeImage(query.image, query.imageHash, false);
    auto p = prepare(query.text, w.queryImage.tokens, candidate, false);
    if (!p.result.ok())
        return p.result;
    runBatch({{&p, &w}});
    return p.result;
}

} // namespace unirank::scoring
