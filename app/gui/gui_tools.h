// SPDX-License-Identifier: GPL-3.0-or-later
// Two non-interactive modes of the desktop app, driven through the same window a user sees:
//  - screenshots: opens a project, waits until each tab shows real content (a ranked list, a pair
//    with its images, an evaluation), and saves one PNG per tab. Under X (Xvfb) the window is grabbed
//    from the screen, so the PNG is what the window system shows.
//  - latency benchmark: while the Rank tab scores every query of the project in the background,
//    a 5 ms timer on the GUI thread measures how late the event loop runs it, and the user is
//    simulated (another query selected every 150 ms). Prints JSON with p50/p99/max lateness.
//
// Threading: GUI thread; both run the event loop until done. Errors: a message on stderr, exit 1.
#pragma once

#include <QString>

namespace unirank::app {

int takeScreenshots(const QString &projectFile, const QString &outDir, const QString &versionName);
int benchLatency(const QString &projectFile, const QString &versionName, int threads);

} // namespace unirank::app
