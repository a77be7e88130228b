// SPDX-License-Identifier: GPL-3.0-or-later
// Tensor cache keyed by (model weights hash, content hash, parameters): in memory with a byte bound
// (least recently used evicted) and optionally on disk (one safetensors file per key in a folder the
// project owns, written atomically), with its own byte bound (the oldest files go first). Weights that
// change change the key, so stale entries are never hit. Two uses: the image-embedding cache (the
// vision tower's output for an image; tensor "image_embeds") and the candidate-prefix KV cache of
// candidate-first templates (scorer.h; tensor "prefix_kv").
//
// Threading: all methods are thread-safe (one mutex). Errors: disk problems are not fatal: a file that
// cannot be read is treated as a miss and removed; a write failure is reported through `lastError`.
#pragma once

#include <torch/torch.h>

#include <filesystem>
#include <list>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace unirank::scoring {

class EmbeddingCache {
public:
    /// `maxDiskBytes` 0: the disk folder is unbounded. `tensorName` names the tensor in each file.
    explicit EmbeddingCache(std::size_t maxBytes = 512ull << 20, std::filesystem::path diskFolder = {},
                            std::uintmax_t maxDiskBytes = 0, std::string tensorName = "image_embeds");

    static std::string makeKey(const std::string &weightsHash, const std::string &imageHash, const std::string &params);

    /// A CPU tensor [tokens, hidden], from memory or disk; nullopt on a miss.
    std::optional<torch::Tensor> get(const std::string &key);
    void put(const std::string &key, const torch::Tensor &embeddings);
    void clearMemory();

    struct Stats {
        std::size_t memoryHits = 0, diskHits = 0, misses = 0, entries = 0, bytes = 0;
        std::uintmax_t diskBytes = 0; ///< of the files this cache knows (those it found at start and wrote)
    };
    Stats stats() const;
    std::string lastError() const;

private:
    struct Entry {
        torch::Tensor value;
        std::list<std::string>::iterator lru;
    };
    void insertLocked(const std::string &key, const torch::Tensor &value);
    void scanDiskLocked();
    void trimDiskLocked();

    std::size_t m_maxBytes;
    std::filesystem::path m_disk;
    std::uintmax_t m_maxDiskBytes;
    std::string m_tensorName;
    bool m_diskScanned = false;
    mutable std::mutex m_lock;
    std::unordered_map<std::string, Entry> m_entries;
    std::list<std::string> m_lru; ///< most recent first
    Stats m_stats;
    std::string m_lastError;
};

} // namespace unirank::scoring
