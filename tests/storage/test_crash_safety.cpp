// SPDX-License-Identifier: GPL-3.0-or-later
// A child process streams label writes and is killed with SIGKILL at random moments. Afterwards the
// database must pass its integrity check and hold every label whose write had returned (was acked).
// On the server (test_crash_safety_pg) the client is killed 100 times: the server must keep every
// acknowledged COMMIT of a client that vanished mid-write.
#include "storage/repo/catalog.h"
#include "storage/repo/judgements.h"
#include "storage/project.h"
#include "test_backend.h"

#include <QProcess>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTest>

#include <csignal>

using namespace unirank;
using namespace unirank::storage;
namespace fs = std::filesystem;

class TestCrashSafety : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    fs::path m_file;
    QStringList m_args;

private slots:
    void initTestCase()
    {
        m_file = test::newProjectLocation(fs::path(m_dir.path().toStdString()), "crash");
        auto p = std::move(test::createProject(m_file).value());
        auto &db = p->db();
        const auto c = insertCollection(db, "c", "", "");
        const auto q = insertQuery(db, c, Query{"q", "query", "", {}}, std::nullopt);
        m_args << QString::fromStdString(m_file.string()) << QString::number(q);
        for (int i = 0; i < 20; ++i)
            m_args << QString::number(
                insertCandidate(db, c, Candidate{"d" + std::to_string(i), Modality::Text, "", "t", "", {}}, std::nullopt));
    }

    void killedWriterLosesNoAcknowledgedLabel()
    {
        const int rounds = test::serverBackend() ? 100 : 12;
        std::int64_t totalAcked = 0;
        for (int round = 0; round < rounds; ++round) {
            QProcess child;
            child.setProcessChannelMode(QProcess::SeparateChannels);
            child.start(QStringLiteral(UNIRANK_CHILD), m_args);
            QVERIFY2(child.waitForStarted(10000), qPrintable(child.errorString()));
            const int killAfter = QRandomGenerator::global()->bounded(5, 400);
            QByteArray out;
            int acks = 0;
            while (acks < killAfter) {
                if (!child.waitForReadyRead(20000))
                    QFAIL(qPrintable(QStringLiteral("child stalled: ") + QString::fromUtf8(child.readAllStandardError())));
                out += child.readAllStandardOutput();
                acks = static_cast<int>(out.count('\n'));
            }
            ::kill(static_cast<pid_t>(child.processId()), SIGKILL);
            QVERIFY(child.waitForFinished(10000));
            QCOMPARE(child.exitStatus(), QProcess::CrashExit);
            out += child.readAllStandardOutput();

            // Only complete lines are acknowledgements; the last one may be cut by the kill.
            const auto lines = out.left(out.lastIndexOf('\n') + 1).split('\n');
            auto db = Database::open(m_file, Database::Mode::ReadWrite);
            QCOMPARE(db.integrityCheck(), std::string("ok"));
            int checked = 0;
            for (const auto &line : lines) {
                const auto f = line.split(' ');
                if (f.size() != 7 || f[0] != "ack")
                    continue;
                const auto id = f[1].toLongLong();
                if (f[2] == "g") {
                    const auto row = findGradedLabel(db, id);
                    QVERIFY2(row, qPrintable("acknowledged graded label lost: " + line));
                    QCOMPARE(row->candidateId, f[4].toLongLong());
                    QCOMPARE(row->grade, f[6].toInt());
                } else {
                    const auto row = findPairLabel(db, id);
                    QVERIFY2(row, qPrintable("acknowledged pair label lost: " + line));
                    QCOMPARE(row->input.leftId, f[4].toLongLong());
                    QCOMPARE(row->input.rightId, f[5].toLongLong());
                    QCOMPARE(static_cast<int>(row->input.outcome), f[6].toInt());
                }
                ++checked;
            }
            QVERIFY(checked >= killAfter);
            totalAcked += checked;
        }
        qInfo("%d kills, %lld acknowledged writes checked, 0 lost", rounds, static_cast<long long>(totalAcked));
    }
};

QTEST_GUILESS_MAIN(TestCrashSafety)
#include "test_crash_safety.moc"
