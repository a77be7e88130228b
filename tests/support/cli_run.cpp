// SPDX-License-Identifier: GPL-3.0-or-later
#include "cli_run.h"

#include <QProcess>
#include <QProcessEnvironment>

namespace unirank::test {

CliRun runCli(const QString &program, const QStringList &args, const CliOptions &options)
{
    QProcess p;
    if (options.oneThread) {
        auto env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("OMP_NUM_THREADS"), QStringLiteral("1"));
        p.setProcessEnvironment(env);
    }
    p.start(program, args);
    if (!options.stdinData.isEmpty())
        p.write(options.stdinData);
    p.closeWriteChannel();
    p.waitForFinished(options.timeoutMs);
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, QString::fromUtf8(p.readAllStandardOutput()),
            QString::fromUtf8(p.readAllStandardError())};
}

QString sourcePath(const char *relative)
{
    return QString::fromUtf8(qgetenv("UNIRANK_SOURCE_DIR")) + QLatin1Char('/') + QLatin1String(relative);
}

} // namespace unirank::test
