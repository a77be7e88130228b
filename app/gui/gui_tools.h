// SPDX-License-Identifier: GPL-3.0-or-later
// Non-interactive modes of the desktop app, driven through the same window a user sees:
//  - screenshots: opens a project, waits until each tab shows real content (a ranked list, a pair
//    with its images, an evaluation), and saves one PNG per tab. Under X (Xvfb) the window is grabbed
//    from the screen, so the PNG is what the window system shows.
//  - latency benchmark: while the Rank tab scores every query of the project in the background,
//    a 5 ms timer on the GUI thread measures how late the event loop runs it, and the user is
//    simulated (another query selected every 150 ms). With LatencyLoad::training the Train tab runs
//    an instruction-tuning round (its child process) at the same time; with LatencyLoad::labels a
//    graded label is given every 250 ms and the time to its acknowledgement recorded. Another process
//    writing to the project is the caller's to start (scripts/bench-gui-latency.sh). Prints JSON with
//    p50/p99/max lateness, the training steps seen and the label acknowledgement times.
//  - startup benchmark: opens a project as `unirank PROJECT` does and reports when the Rank tab first
//    shows a ranked list, in milliseconds since the process started (the kernel's start time, so the
//    loading of the libraries counts) and since main().
//
// Threading: GUI thread; both run the event loop until done. Errors: a message on stderr, exit 1.
#pragma once

#include <QString>

namespace unirank::app {

int takeScreenshots(const QString &projectFile, const QString &outDir, const QString &versionName);
struct LatencyLoad {
    bool training = false; ///< a training round from the Train tab while scoring
    bool labels = false;   ///< a graded label every 250 ms while scoring
};
int benchLatency(const QString &projectFile, const QString &versionName, int threads, LatencyLoad load = {});
int benchStartup(const QString &projectFile, double mainStartedMs);
/// Milliseconds since this process started (from /proc), or -1.
double msSinceProcessStart();

} // namespace unirank::app
