// SPDX-License-Identifier: GPL-3.0-or-later
// Crash-safe file and folder replacement: write beside the target, fsync, rename over it, fsync the
// parent folder. A reader (or a process restarted after SIGKILL or power loss) sees either the old
// content or the complete new content, never a prefix.
//
// Threading: no shared state; one AtomicFile per thread.
// Errors: std::system_error naming the path on any I/O failure; the temporary is removed.
#pragma once

#include <filesystem>
#include <string>
#include <string_view>

namespace unirank {

class AtomicFile {
public:
    explicit AtomicFile(std::filesystem::path target);
    ~AtomicFile(); ///< discards the temporary unless commit() succeeded
    AtomicFile(const AtomicFile &) = delete;
    AtomicFile &operator=(const AtomicFile &) = delete;

    enum class Sync {
        Each,    ///< fsync the file and its folder before commit() returns (the default)
        Deferred ///< only rename; the caller makes many files durable at once with syncFileSystem()
    };

    void write(std::string_view bytes);
    void commit(Sync sync = Sync::Each); ///< flush + fsync + rename + fsync(dir)

    const std::filesystem::path &target() const { return m_target; }

private:
    std::filesystem::path m_target;
    std::filesystem::path m_temp;
    int m_fd = -1;
    std::string m_buffer;
    bool m_committed = false;

    void flushBuffer();
};

/// Writes a whole file atomically.
void writeFileAtomically(const std::filesystem::path &target, std::string_view bytes,
                         AtomicFile::Sync sync = AtomicFile::Sync::Each);

/// Flushes every pending write of the file system that holds `path` (syncfs): one call that makes a
/// batch of Sync::Deferred files durable.
void syncFileSystem(const std::filesystem::path &path);

/// Reads a whole file; throws InputError naming the file when it cannot be read.
std::string readWholeFile(const std::filesystem::path &path);

/// fsyncs a folder so that renames inside it are durable.
void syncDirectory(const std::filesystem::path &dir);

/// Builds a folder atomically: `fill` writes into a fresh staging folder beside `target`; on success
/// the staging folder replaces `target` in one atomic exchange (renameat2), so a crash at any moment
/// leaves the old or the new folder. On an exception the staging folder is removed and `target` is
/// untouched. Staging folders (and AtomicFile's temp files) carry their process id: what a killed
/// process left in the folder is removed when the next staging folder is made there (temp files are not
/// looked for on every AtomicFile: a media folder may hold 10^5 files).
template <typename Fill>
void replaceDirectoryAtomically(const std::filesystem::path &target, Fill &&fill);

namespace detail {
std::filesystem::path makeStagingDirectory(const std::filesystem::path &target);
void swapInDirectory(const std::filesystem::path &staging, const std::filesystem::path &target);
void removeQuietly(const std::filesystem::path &path) noexcept;
} // namespace detail

template <typename Fill>
void replaceDirectoryAtomically(const std::filesystem::path &target, Fill &&fill)
{
    const auto staging = detail::makeStagingDirectory(target);
    try {
        fill(staging);
        detail::swapInDirectory(staging, target);
    } catch (...) {
        detail::removeQuietly(staging);
        throw;
    }
}

} // namespace unirank
