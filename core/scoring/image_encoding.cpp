// SPDX-License-Identifier: GPL-3.0-or-later
// Scorer's image encoding: one image or many, through the image-embedding cache. A hit needs only the
// file's hash and header: the patch grid follows from the declared size and the pixel budget, so the
// image is neither decoded nor resized. Misses are decoded and preprocessed on a few plain threads
// (no torch there), a chunk at a time so that a request of hundreds of drawings holds only a chunk of
// pixel arrays, and then run through the vision tower on the calling thread.
#include "core/scoring/scorer.h"
#include "core/scoring/scorer_internal.h"

#include "core/model/qwen2vl.h"
#include "core/util/atomic_file.h"
#include "core/util/sha256.h"

#include <algorithm>
#include <atomic>
#include <optional>
#include <thread>

namespace unirank::scoring {

namespace fs = std::filesystem;
using detail::firstLine;
using detail::processorKey;

namespace {

/// Threads that decode and resize at once; also the chunk size of a request's misses.
std::size_t preprocessThreads()
{
    return std::clamp<std::size_t>(std::thread::hardware_concurrency(), 1, 8);
}

} // namespace

std::optional<torch::Tensor> Scorer::cachedEmbeddings(const std::string &hash, std::int64_t tokens)
{
    if (!m_options.imageCache || hash.empty())
        return std::nullopt;
    const auto key = EmbeddingCache::makeKey(m_model->weightsHash, hash,
                                             processorKey(m_model->imageConfig, m_model->model->dtype()));
    auto hit = m_options.imageCache->get(key);
    if (hit && hit->size(0) != tokens)
        return std::nullopt; // a header that disagrees with what was decoded: decode again
    return hit;
}

Scorer::Image Scorer::finishImage(const vision::PreprocessedImage &image, const std::string &hash, bool useCache,
                                  bool lookedUp)
{
    auto &model = m_model->model;
    Image out;
    out.grid = torch::tensor(std::vector<std::int64_t>(image.gridThw.begin(), image.gridThw.end())).view({1, 3});
    out.pixels = torch::from_blob(const_cast<float *>(image.pixelValues.data()), {image.patches, image.features},
                                  torch::kFloat32)
                     .clone();
    out.tokens = image.tokenCount(m_model->imageConfig.mergeSize);
    if (!useCache)
        return out; // the reference path encodes inside the forward
    const auto hit = lookedUp ? std::nullopt : cachedEmbeddings(hash, out.tokens);
    if (hit) {
        out.embeds = *hit;
    } else {
        out.embeds = model->visual()(out.pixels.to(model->device()), out.grid);
        if (m_options.imageCache)
            m_options.imageCache->put(
                EmbeddingCache::makeKey(m_model->weightsHash, hash, processorKey(m_model->imageConfig, model->dtype())),
                out.embeds);
    }
    return out;
}

Scorer::Image Scorer::encodeImage(const fs::path &file, std::string hash, bool useCache)
{
    if (!useCache)
        return finishImage(vision::preprocessImageFile(file, m_model->imageConfig, m_options.limits), hash, false,
                           false);
    auto encoded = std::move(encodeImages({{file, std::move(hash)}}).front());
    if (!encoded.error.empty())
        throw InputError(encoded.error);
    return std::move(encoded.image);
}

std::vector<Scorer::EncodedImage> Scorer::encodeImages(const std::vector<ImageJob> &jobs)
{
    const auto merge = m_model->imageConfig.mergeSize;
    std::vector<EncodedImage> out(jobs.size());
    std::vector<std::size_t> misses;
    std::vector<std::string> hashes(jobs.size());
    std::vector<char> lookedUp(jobs.size(), 0);
    for (std::size_t i = 0; i < jobs.size(); ++i) {
        try {
            hashes[i] = jobs[i].hash;
            if (!m_options.imageCache) {
                misses.push_back(i);
                continue;
            }
            if (fs::file_size(jobs[i].file) > m_options.limits.maxBytes) {
                misses.push_back(i); // decoding refuses it with the reason
                continue;
            }
            const auto bytes = readWholeFile(jobs[i].file); // the hash and the header; no decoding
            if (hashes[i].empty())
                hashes[i] = sha256Hex(bytes);
            const auto grid = vision::plannedGrid(bytes, m_model->imageConfig, m_options.limits);
            const auto tokens = grid ? (*grid)[0] * (*grid)[1] * (*grid)[2] / (merge * merge) : 0;
            lookedUp[i] = grid.has_value();
            if (const auto hit = grid ? cachedEmbeddings(hashes[i], tokens) : std::nullopt) {
                auto &image = out[i].image;
                image.grid = torch::tensor(std::vector<std::int64_t>(grid->begin(), grid->end())).view({1, 3});
                image.tokens = tokens;
                image.embeds = *hit;
                image.hash = hashes[i];
            } else {
                misses.push_back(i);
            }
        } catch (const std::exception &) {
            misses.push_back(i); // unreadable: decoding below says why, as for any miss
        }
    }
    // Misses, a chunk at a time: decode and preprocess on threads, then the vision tower here.
    const auto threads = preprocessThreads();
    for (std::size_t begin = 0; begin < misses.size(); begin += threads) {
        const auto end = std::min(misses.size(), begin + threads);
        std::vector<std::optional<vision::PreprocessedImage>> pre(end - begin);
        std::vector<std::string> errors(end - begin);
        std::vector<char> inputErrors(end - begin, 0);
        std::atomic<std::size_t> next{begin};
        const auto work = [&] {
            for (std::size_t m; (m = next++) < end;) { // nothing escapes a thread
                try {
                    pre[m - begin] =
                        vision::preprocessImageFile(jobs[misses[m]].file, m_model->imageConfig, m_options.limits);
                } catch (const InputError &e) {
                    errors[m - begin] = e.what();
                    inputErrors[m - begin] = 1;
                } catch (const std::exception &e) {
                    errors[m - begin] = firstLine(e.what());
                }
            }
        };
        std::vector<std::thread> pool;
        for (std::size_t t = 1; t < end - begin; ++t)
            pool.emplace_back(work);
        work();
        for (auto &t : pool)
            t.join();
        for (std::size_t m = begin; m < end; ++m) {
            const auto i = misses[m];
            if (!pre[m - begin]) {
                out[i].error = errors[m - begin];
                out[i].inputError = inputErrors[m - begin] != 0;
                continue;
            }
            try {
                if (hashes[i].empty()) // the cache key, and the candidate-first prefix key
                    hashes[i] = sha256File(jobs[i].file);
                out[i].image = finishImage(*pre[m - begin], hashes[i], true, lookedUp[i] != 0);
                out[i].image.hash = hashes[i];
            } catch (const std::exception &e) { // e.g. an allocation in the vision tower
                out[i].error = firstLine(e.what());
            }
            pre[m - begin].reset(); // the pixels of a chunk, not of the request
        }
    }
    return out;
}

} // namespace unirank::scoring
