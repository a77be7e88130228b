// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/util/atomic_file.h"

#include "core/util/error.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <csignal>
#include <cstdio> // renameat2, RENAME_EXCHANGE (glibc >= 2.28)
#include <cstring>
#include <fstream>
#include <random>
#include <system_error>

namespace fs = std::filesystem;

namespace unirank {
namespace {

[[noreturn]] void throwErrno(const std::string &what, const fs::path &path)
{
    throw std::system_error(errno, std::generic_category(), what + " '" + path.string() + "'");
}

/// "<pid>-<8 random characters>": the pid tells a later writer whether the owner is still alive.
std::string randomSuffix()
{
    static thread_local std::mt19937_64 rng{std::random_device{}()};
    static constexpr char digits[] = "0123456789abcdefghijklmnopqrstuvwxyz";
    std::string s(8, '0');
    for (auto &c : s)
        c = digits[rng() % 36];
    return std::to_string(::getpid()) + "-" + s;
}

/// Removes what killed writers left in `dir`: ".<name>.staging-<pid>-...", ".<name>.old-<pid>-..." and
/// ".<name>.tmp-<pid>-..." whose process is gone. Entries of live processes (another instance writing
/// right now) and names without a pid are kept.
void removeStaleSiblings(const fs::path &dir) noexcept
{
    std::error_code ec;
    for (fs::directory_iterator it(dir, ec), end; !ec && it != end; it.increment(ec)) {
        const auto name = it->path().filename().string();
        if (!name.starts_with("."))
            continue;
        for (const std::string_view kind : {".staging-", ".old-", ".tmp-"}) {
            const auto at = name.rfind(kind);
            if (at == std::string::npos || at == 0)
                continue;
            const auto rest = std::string_view(name).substr(at + kind.size());
            const auto dash = rest.find('-');
            if (dash == std::string_view::npos)
                continue;
            pid_t pid = 0;
            const auto [ptr, err] = std::from_chars(rest.data(), rest.data() + dash, pid);
            if (err != std::errc{} || ptr != rest.data() + dash || pid <= 0)
                continue;
            if (::kill(pid, 0) != 0 && errno == ESRCH) {
                std::error_code removeError;
                fs::remove_all(it->path(), removeError);
            }
            break;
        }
    }
}

} // namespace

AtomicFile::AtomicFile(fs::path target)
    : m_target(std::move(target))
{
    const auto dir = m_target.has_parent_path() ? m_target.parent_path() : fs::path(".");
    for (int attempt = 0; attempt < 16 && m_fd < 0; ++attempt) {
        m_temp = dir / ("." + m_target.filename().string() + ".tmp-" + randomSuffix());
        m_fd = ::open(m_temp.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
        if (m_fd < 0 && errno != EEXIST)
            throwErrno("cannot create temporary file", m_temp);
    }
    if (m_fd < 0)
        throwErrno("cannot create temporary file", m_temp);
}

AtomicFile::~AtomicFile()
{
    if (m_fd >= 0)
        ::close(m_fd);
    if (!m_committed) {
        std::error_code ec;
        fs::remove(m_temp, ec);
    }
}

void AtomicFile::write(std::string_view bytes)
{
    m_buffer.append(bytes);
    if (m_buffer.size() >= (1u << 20))
        flushBuffer();
}

void AtomicFile::flushBuffer()
{
    std::size_t done = 0;
    while (done < m_buffer.size()) {
        const auto n = ::write(m_fd, m_buffer.data() + done, m_buffer.size() - done);
        if (n < 0) {
            if (errno == EINTR)
                continue;
            throwErrno("cannot write", m_temp);
        }
        done += static_cast<std::size_t>(n);
    }
    m_buffer.clear();
}

void AtomicFile::commit(Sync sync)
{
    flushBuffer();
    if (sync == Sync::Each && ::fsync(m_fd) != 0)
        throwErrno("cannot fsync", m_temp);
    if (::close(m_fd) != 0) {
        m_fd = -1;
        throwErrno("cannot close", m_temp);
    }
    m_fd = -1;
    if (::rename(m_temp.c_str(), m_target.c_str()) != 0)
        throwErrno("cannot rename temporary file onto", m_target);
    m_committed = true;
    if (sync == Sync::Each)
        syncDirectory(m_target.has_parent_path() ? m_target.parent_path() : fs::path("."));
}

void writeFileAtomically(const fs::path &target, std::string_view bytes, AtomicFile::Sync sync)
{
    AtomicFile f(target);
    f.write(bytes);
    f.commit(sync);
}

void syncFileSystem(const fs::path &path)
{
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        throwErrno("cannot open", path);
    const int rc = ::syncfs(fd);
    ::close(fd);
    if (rc != 0)
        throwErrno("cannot sync the file system of", path);
}

std::string readWholeFile(const fs::path &path)
{
    // O_NONBLOCK: opening a FIFO planted in a dataset must not wait for a writer; it is then refused
    // as not a regular file (as are devices such as /dev/zero behind a symlink).
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        throw InputError(SourceLocation{path.string()}, std::string("cannot open file for reading: ") + std::strerror(errno));
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        throw InputError(SourceLocation{path.string()}, "not a regular file");
    }
    std::string data(static_cast<std::size_t>(st.st_size), '\0');
    std::size_t done = 0;
    while (done < data.size()) {
        const auto n = ::read(fd, data.data() + done, data.size() - done);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0) {
            const int err = errno;
            ::close(fd);
            throw InputError(SourceLocation{path.string()}, std::string("read error: ") + std::strerror(err));
        }
        if (n == 0) { // the file shrank while we read it
            data.resize(done);
            break;
        }
        done += static_cast<std::size_t>(n);
    }
    ::close(fd);
    return data;
}

void syncDirectory(const fs::path &dir)
{
    const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd < 0)
        throwErrno("cannot open folder", dir);
    const int rc = ::fsync(fd);
    ::close(fd);
    if (rc != 0)
        throwErrno("cannot fsync folder", dir);
}

namespace detail {

fs::path makeStagingDirectory(const fs::path &target)
{
    const auto parent = target.has_parent_path() ? target.parent_path() : fs::path(".");
    fs::create_directories(parent);
    removeStaleSiblings(parent);
    for (int attempt = 0; attempt < 16; ++attempt) {
        auto dir = parent / ("." + target.filename().string() + ".staging-" + randomSuffix());
        if (fs::create_directory(dir))
            return dir;
    }
    throw std::runtime_error("cannot create a staging folder beside '" + target.string() + "'");
}

void swapInDirectory(const fs::path &staging, const fs::path &target)
{
    const auto parent = target.has_parent_path() ? target.parent_path() : fs::path(".");
    fs::path old;
    if (fs::exists(target)) {
        // One atomic exchange: a crash at any moment leaves either the old or the new folder at
        // `target`. (Two renames would leave a moment with no `target` at all.)
        if (::renameat2(AT_FDCWD, staging.c_str(), AT_FDCWD, target.c_str(), RENAME_EXCHANGE) == 0) {
            syncDirectory(parent);
            removeQuietly(staging); // now the old content
            return;
        }
        if (errno != EINVAL && errno != ENOSYS && errno != ENOTSUP)
            throwErrno("cannot exchange folders", target);
        // The file system cannot exchange: move the old folder aside first.
        old = parent / ("." + target.filename().string() + ".old-" + randomSuffix());
        fs::rename(target, old);
    }
    try {
        fs::rename(staging, target);
    } catch (...) {
        if (!old.empty())
            fs::rename(old, target);
        throw;
    }
    syncDirectory(parent);
    if (!old.empty())
        removeQuietly(old);
}

void removeQuietly(const fs::path &path) noexcept
{
    std::error_code ec;
    fs::remove_all(path, ec);
}

} // namespace detail
} // namespace unirank
