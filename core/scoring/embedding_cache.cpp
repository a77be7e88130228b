// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/scoring/embedding_cache.h"

#include "core/model/torch_io.h"
#include "core/util/sha256.h"

#include <algorithm>

namespace unirank::scoring {

EmbeddingCache::EmbeddingCache(std::size_t maxBytes, std::filesystem::path diskFolder, std::uintmax_t maxDiskBytes,
                               std::string tensorName)
    : m_maxBytes(maxBytes), m_disk(std::move(diskFolder)), m_maxDiskBytes(maxDiskBytes), m_tensorName(std::move(tensorName))
{
}

void EmbeddingCache::scanDiskLocked()
{
    if (m_diskScanned || m_disk.empty())
        return;
    m_diskScanned = true;
    std::error_code ec;
    for (const auto &entry : std::filesystem::directory_iterator(m_disk, ec))
        if (entry.path().extension() == ".safetensors")
            m_stats.diskBytes += entry.file_size(ec);
}

void EmbeddingCache::trimDiskLocked()
{
    if (m_maxDiskBytes == 0 || m_stats.diskBytes <= m_maxDiskBytes)
        return;
    // Oldest first, down to 90% of the bound so that one trim serves many writes.
    std::vector<std::pair<std::filesystem::file_time_type, std::filesystem::path>> files;
    std::error_code ec;
    std::uintmax_t total = 0;
    for (const auto &entry : std::filesystem::directory_iterator(m_disk, ec)) {
        if (entry.path().extension() != ".safetensors")
            continue;
        files.emplace_back(entry.last_write_time(ec), entry.path());
        total += entry.file_size(ec);
    }
    std::sort(files.begin(), files.end());
    const auto target = m_maxDiskBytes / 10 * 9;
    for (const auto &[time, file] : files) {
        if (total <= target)
            break;
        const auto size = std::filesystem::file_size(file, ec);
        if (std::filesystem::remove(file, ec))
            total -= size;
    }
    m_stats.diskBytes = total;
}

std::string EmbeddingCache::makeKey(const std::string &weightsHash, const std::string &imageHash,
                                    const std::string &params)
{
    return sha256Hex(weightsHash + "\n" + imageHash + "\n" + params);
}

void EmbeddingCache::insertLocked(const std::string &key, const torch::Tensor &value)
{
    if (m_entries.contains(key))
        return;
    const auto bytes = static_cast<std::size_t>(value.nbytes());
    if (bytes > m_maxBytes)
        return;
    while (m_stats.bytes + bytes > m_maxBytes && !m_lru.empty()) {
        const auto &victim = m_lru.back();
        m_stats.bytes -= static_cast<std::size_t>(m_entries.at(victim).value.nbytes());
        m_entries.erase(victim);
        m_lru.pop_back();
    }
    m_lru.push_front(key);
    m_entries.emplace(key, Entry{value, m_lru.begin()});
    m_stats.bytes += bytes;
    m_stats.entries = m_entries.size();
}

std::optional<torch::Tensor> EmbeddingCache::get(const std::string &key)
{
    std::lock_guard lock(m_lock);
    if (const auto it = m_entries.find(key); it != m_entries.end()) {
        m_lru.splice(m_lru.begin(), m_lru, it->second.lru);
        ++m_stats.memoryHits;
        return it->second.value;
    }
    if (!m_disk.empty()) {
        const auto file = m_disk / (key + ".safetensors");
        std::error_code ec;
        if (std::filesystem::exists(file, ec)) {
            auto tensors = model::readSafetensors(file);
            if (tensors && tensors->contains(m_tensorName)) {
                ++m_stats.diskHits;
                const auto value = tensors->at(m_tensorName);
                insertLocked(key, value);
                return value;
            }
            std::filesystem::remove(file, ec); // unreadable: drop it
        }
    }
    ++m_stats.misses;
    return std::nullopt;
}

void EmbeddingCache::put(const std::string &key, const torch::Tensor &embeddings)
{
    const auto value = embeddings.detach().to(torch::kCPU).contiguous();
    std::lock_guard lock(m_lock);
    insertLocked(key, value);
    if (m_disk.empty())
        return;
    try {
        std::filesystem::create_directories(m_disk);
        scanDiskLocked();
        const auto file = m_disk / (key + ".safetensors");
        if (!std::filesystem::exists(file)) {
            model::writeTensors(file, {{m_tensorName, value}});
            m_stats.diskBytes += std::filesystem::file_size(file);
            trimDiskLocked();
        }
    } catch (const std::exception &e) {
        m_lastError = e.what();
    }
}

void EmbeddingCache::clearMemory()
{
    std::lock_guard lock(m_lock);
    m_entries.clear();
    m_lru.clear();
    m_stats.bytes = 0;
    m_stats.entries = 0;
}

EmbeddingCache::Stats EmbeddingCache::stats() const
{
    std::lock_guard lock(m_lock);
    return m_stats;
}

std::string EmbeddingCache::lastError() const
{
    std::lock_guard lock(m_lock);
    return m_lastError;
}

} // namespace unirank::scoring
