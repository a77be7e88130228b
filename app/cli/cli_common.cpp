// SPDX-License-Identifier: GPL-3.0-or-later
#include "cli_common.h"

#include "core/model/presets.h"

#include <cstdlib>
#include <iostream>

namespace fs = std::filesystem;

namespace unirank::cli {

std::vector<std::string> benchPresets()
{
    auto names = model::presetNames();
    names.insert(names.begin(), "tiny");
    return names;
}

fs::path resourceDir()
{
    std::vector<fs::path> candidates;
    if (const char *env = std::getenv("UNIRANK_RESOURCES"); env && *env)
        candidates.emplace_back(env);
    std::error_code ec;
    if (const auto exe = fs::read_symlink("/proc/self/exe", ec); !ec)
        candidates.push_back(exe.parent_path().parent_path() / "share" / "unirank-studio");
#ifdef UNIRANK_SOURCE_RESOURCES
    candidates.emplace_back(UNIRANK_SOURCE_RESOURCES);
#endif
    std::string looked;
    for (const auto &c : candidates) {
        if (fs::is_directory(c / "demo", ec) && fs::is_directory(c / "models", ec))
            return c;
        looked += (looked.empty() ? "" : ", ") + c.string();
    }
    throw InputError("cannot find UniRank's resources (demo/ and models/) in " + looked + "; set UNIRANK_RESOURCES");
}

int reportError(const Error &error)
{
    const char *label = error.kind == ErrorKind::Busy ? "busy" : "error";
    std::cerr << "unirank-cli: " << label << ": " << error.message << "\n";
    return error.kind == ErrorKind::BadInput ? kExitBadInput : kExitInternal;
}

void addPixelBudgetOptions(CLI::App &cmd, std::int64_t &minPixels, std::int64_t &maxPixels)
{
    cmd.add_option("--min-pixels", minPixels, "Smallest image area in pixels (default: the model folder's preprocessor)")
        ->check(CLI::Range(std::int64_t(1), std::int64_t(1) << 40));
    cmd.add_option("--max-pixels", maxPixels,
                   "Largest image area in pixels (default: the model folder's, capped at 1003520 = 1280 visual tokens)")
        ->check(CLI::Range(std::int64_t(1), std::int64_t(1) << 40));
}

} // namespace unirank::cli
