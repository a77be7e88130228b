// SPDX-License-Identifier: GPL-3.0-or-later
// The identity of a model or adapter folder's weights: sha256 over "name:sha256(file)\n" of its
// .safetensors files in name order. Model versions and the image-embedding cache are keyed by it.
//
// Hashing 4.4 GB of a 2B checkpoint (16 GB for 7B) on every load would cost a minute, so the result
// is remembered per folder in the user's cache (UNIRANK_CACHE_DIR, else $XDG_CACHE_HOME/unirank-studio,
// else ~/.cache/unirank-studio; one small JSON file per folder) together with each file's size,
// modification and status-change times (nanoseconds), inode and device. It is reused only when all
// of them are unchanged. Writing a file changes its status-change time, which no user call can set
// back, so a changed file is always hashed again; a cache that cannot be written is simply not used.
//
// Threading: free functions; concurrent callers may both hash and both write (atomically).
#pragma once

#include <filesystem>
#include <string>

namespace unirank::scoring {

/// The folder's weights hash, from the cache when every file is unchanged, else computed (and cached).
std::string weightsHashOf(const std::filesystem::path &folder);

/// The same, always reading every byte (the cache's reference).
std::string computeWeightsHash(const std::filesystem::path &folder);

/// Where the cache lives (created on first use).
std::filesystem::path weightsHashCacheDir();

} // namespace unirank::scoring
