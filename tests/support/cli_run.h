// SPDX-License-Identifier: GPL-3.0-or-later
// Running a program (unirank-cli) from a test and collecting what it printed.
#pragma once

#include <QByteArray>
#include <QString>
#include <QStringList>

namespace unirank::test {

struct CliRun {
    int code = -1; ///< the exit code; -1 when it crashed or ran past the timeout
    QString out, err;
};

struct CliOptions {
    int timeoutMs = 240000;
    QByteArray stdinData;  ///< written to the program's stdin, which is then closed
    bool oneThread = false; ///< OMP_NUM_THREADS=1: CTest runs two tests at a time on a 2-core machine
};

CliRun runCli(const QString &program, const QStringList &args, const CliOptions &options = {});

/// `relative` inside the source tree (UNIRANK_SOURCE_DIR), as the CLI is given paths.
QString sourcePath(const char *relative);

} // namespace unirank::test
