// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/scoring/weights_hash.h"

#include "core/util/atomic_file.h"
#include "core/util/sha256.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdlib>
#include <sys/stat.h>
#include <vector>

namespace fs = std::filesystem;

namespace unirank::scoring {
namespace {

std::vector<fs::path> weightFiles(const fs::path &folder)
{
    std::vector<fs::path> files;
    for (const auto &e : fs::directory_iterator(folder))
        if (e.is_regular_file() && e.path().extension() == ".safetensors")
            files.push_back(e.path());
    std::sort(files.begin(), files.end());
    return files;
}

/// What identifies a file's current content without reading it.
nlohmann::json fileStamp(const fs::path &file)
{
    struct stat st {};
    if (::stat(file.c_str(), &st) != 0)
        return nullptr;
    const auto ns = [](const timespec &t) { return static_cast<std::int64_t>(t.tv_sec) * 1000000000 + t.tv_nsec; };
    return {{"name", file.filename().string()},           {"size", static_cast<std::uint64_t>(st.st_size)},
            {"mtime_ns", ns(st.st_mtim)},                 {"ctime_ns", ns(st.st_ctim)},
            {"inode", static_cast<std::uint64_t>(st.st_ino)}, {"device", static_cast<std::uint64_t>(st.st_dev)}};
}

} // namespace

fs::path weightsHashCacheDir()
{
    if (const char *dir = std::getenv("UNIRANK_CACHE_DIR"); dir && *dir)
        return fs::path(dir) / "weights-hash";
    if (const char *xdg = std::getenv("XDG_CACHE_HOME"); xdg && *xdg)
        return fs::path(xdg) / "unirank-studio" / "weights-hash";
    if (const char *home = std::getenv("HOME"); home && *home)
        return fs::path(home) / ".cache" / "unirank-studio" / "weights-hash";
    return {};
}

std::string computeWeightsHash(const fs::path &folder)
{
    std::string all;
    for (const auto &f : weightFiles(folder))
        all += f.filename().string() + ":" + sha256File(f) + "\n";
    return sha256Hex(all);
}

std::string weightsHashOf(const fs::path &folder)
{
    std::error_code ec;
    const auto canonical = fs::weakly_canonical(folder, ec);
    const auto cacheDir = weightsHashCacheDir();
    nlohmann::json stamps = nlohmann::json::array();
    for (const auto &f : weightFiles(folder))
        stamps.push_back(fileStamp(f));
    const auto entry = cacheDir.empty() ? fs::path() : cacheDir / (sha256Hex((ec ? folder : canonical).string()) + ".json");
    if (!entry.empty()) {
        try {
            const auto cached = nlohmann::json::parse(readWholeFile(entry));
            if (cached.at("files") == stamps && cached.at("hash").is_string())
                return cached.at("hash").get<std::string>();
        } catch (const std::exception &) {
            // absent, unreadable or stale: hash again
        }
    }
    const auto hash = computeWeightsHash(folder);
    // The files must not have changed while they were read; otherwise do not remember this hash.
    nlohmann::json after = nlohmann::json::array();
    for (const auto &f : weightFiles(folder))
        after.push_back(fileStamp(f));
    if (!entry.empty() && after == stamps) {
        try {
            fs::create_directories(cacheDir);
            const nlohmann::json record{{"folder", (ec ? folder : canonical).string()}, {"files", stamps}, {"hash", hash}};
            writeFileAtomically(entry, record.dump(1) + "\n");
        } catch (const std::exception &) {
            // a read-only or full cache only costs the next load a rehash
        }
    }
    return hash;
}

} // namespace unirank::scoring
