// SPDX-License-Identifier: GPL-3.0-or-later
// Tells a client that labels changed in its project: other analysts' labels, undos and pair claims on a
// team server (LISTEN unirank_labels; the server's triggers notify at every commit), or another
// process's writes to a project file (PRAGMA data_version, checked every `interval`). The app refreshes
// its counts, pair queue and agreement figures when told.
//
//   LabelWatcher watch(project.file(), [&] { /* on the watcher's thread: hop to yours */ });
//
// Threading: owns the thread "unirank-watch" with its own connection; `onChange` runs on it, at most
// once per `interval` however many labels arrived. The destructor stops and joins it (within one
// interval). Errors: none escape; a lost connection is reopened every interval, and the first change
// seen after that is reported (so nothing in between is missed).
#pragma once

#include <atomic>
#include <chrono>
#include <filesystem>
#include <functional>
#include <thread>

namespace unirank::storage {

class LabelWatcher {
public:
    using Callback = std::function<void()>;
    LabelWatcher(std::filesystem::path location, Callback onChange,
                 std::chrono::milliseconds interval = std::chrono::milliseconds(500));
    ~LabelWatcher();
    LabelWatcher(const LabelWatcher &) = delete;
    LabelWatcher &operator=(const LabelWatcher &) = delete;

    /// Times the watcher reported a change (for tests and the status bar).
    std::uint64_t changesSeen() const { return m_seen.load(); }

private:
    void run();

    std::filesystem::path m_location;
    Callback m_onChange;
    std::chrono::milliseconds m_interval;
    std::atomic<bool> m_stop{false};
    std::atomic<std::uint64_t> m_seen{0};
    std::thread m_thread;
};

} // namespace unirank::storage
