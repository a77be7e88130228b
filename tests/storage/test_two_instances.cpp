// SPDX-License-Identifier: GPL-3.0-or-later
// Two processes on one project (docs/hardening.md): two label writers (label_writer_child, four
// threads each) label continuously while unirank-cli runs an instruction-tuning round on the same
// project; then the label writers are killed. Nothing may fail: every acknowledged label is in the
// database, the training run finished and recorded its metrics, and the file passes integrity_check.
// Then the busy case: while another connection holds the write lock longer than the busy timeout,
// a label write and `unirank-cli import` both fail with a clear "busy" report (and change nothing);
// a write that waits less than the timeout simply succeeds. On the server (test_two_instances_pg) the
// project is a team project made with `init --server`, and the lock is a table lock on the labels.
#include "cli_run.h"
#include "storage/label_writer.h"
#include "storage/repo/judgements.h"
#include "storage/project.h"
#include "test_backend.h"

#include <QProcess>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <csignal>
#include <thread>

using namespace unirank;
using namespace unirank::storage;
namespace fs = std::filesystem;

namespace {
test::CliRun cli(const QStringList &args) { return test::runCli(QStringLiteral(UNIRANK_CLI), args, {600000, {}, true}); }
} // namespace

class TestTwoInstances : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QString m_project;
    QStringList m_labelArgs;

private slots:
    void initTestCase()
    {
        m_project = QString::fromStdString(test::newProjectLocation(m_dir.path().toStdString(), "shared"));
        const auto init = test::serverBackend() ? cli({"init", "--server", m_project, "--folder", m_dir.filePath("folder")})
                                                : cli({"init", m_project});
        QVERIFY2(init.code == 0, qPrintable(init.err));
        QCOMPARE(cli({"import", m_project, "--dataset", test::sourcePath("resources/demo/clipart-smoke")}).code, 0);
        auto db = Database::open(m_project.toStdString(), Database::Mode::ReadOnly);
        const auto query = db.queryInt("SELECT min(id) FROM queries").value();
        m_labelArgs << m_project << QString::number(query);
        auto s = db.prepare("SELECT id FROM candidates ORDER BY id LIMIT 20");
        while (s.step())
            m_labelArgs << QString::number(s.columnInt(0));
    }

    void labelWritersAndTrainingTogether()
    {
        std::vector<std::unique_ptr<QProcess>> writers;
        for (int i = 0; i < 2; ++i) {
            auto p = std::make_unique<QProcess>();
            auto environment = QProcessEnvironment::systemEnvironment();
            environment.insert(QStringLiteral("PGAPPNAME"), QString::fromStdString(test::killedChildSessionName()));
            p->setProcessEnvironment(environment);
            p->start(QStringLiteral(UNIRANK_LABEL_CHILD), m_labelArgs);
            QVERIFY(p->waitForStarted(10000));
            writers.push_back(std::move(p));
        }
        const auto out = m_dir.filePath("adapter");
        const auto train = cli({"train", "sft", "--project", m_project, "--model", test::sourcePath("resources/models/tiny-random"),
                                "--adapter-out", out, "--set", "max_steps=12", "--set", "learning_rate=1e-3",
                                "--set", "per_device_train_batch_size=4", "--set", "max_candidates_per_query=8",
                                "--set", "save_steps=4"});
        QByteArray acks[2];
        for (std::size_t i = 0; i < writers.size(); ++i) {
            auto &p = *writers[i];
            QVERIFY2(p.state() == QProcess::Running,
                     qPrintable("a label writer stopped during training: " + QString::fromUtf8(p.readAllStandardError())));
            ::kill(static_cast<pid_t>(p.processId()), SIGKILL);
            QVERIFY(p.waitForFinished(10000));
            acks[i] = p.readAllStandardOutput();
        }
        QVERIFY2(train.code == 0, qPrintable(train.err));
        QVERIFY2(test::waitForKilledChildSessions(), "the server kept a killed label writer's session for 30 s");

        auto db = Database::open(m_project.toStdString(), Database::Mode::ReadWrite);
        QCOMPARE(db.integrityCheck(), std::string("ok"));
        std::int64_t checked = 0;
        for (const auto &text : acks)
            for (const auto &line : text.left(text.lastIndexOf('\n') + 1).split('\n')) {
                const auto f = line.split(' ');
                if (f.size() != 7 || f[0] != "ack")
                    continue;
                const bool found = f[2] == "g" ? findGradedLabel(db, f[1].toLongLong()).has_value()
                                               : findPairLabel(db, f[1].toLongLong()).has_value();
                QVERIFY2(found, qPrintable("acknowledged label lost: " + line));
                ++checked;
            }
        QVERIFY(checked > 0);
        QCOMPARE(db.queryInt("SELECT count(*) FROM training_runs WHERE status = 'completed'").value_or(0), std::int64_t(1));
        QVERIFY(db.queryInt("SELECT count(*) FROM training_metrics").value_or(0) >= 12);
        qInfo("two label writers and a training run: %lld labels acknowledged and found, 0 lost, 0 failed writes; "
              "the training run completed",
              static_cast<long long>(checked));
    }

    void busyIsReportedClearly()
    {
        const fs::path file = m_project.toStdString();
        auto holder = Database::open(file, Database::Mode::ReadWrite);
        LabelWriter writer(file);
        auto db = Database::open(file, Database::Mode::ReadOnly);
        const auto query = m_labelArgs[1].toLongLong(), candidate = m_labelArgs[2].toLongLong();
        const auto before = db.queryInt("SELECT count(*) FROM graded_labels").value();

        // SQLite: the write lock of the whole file. Server: a lock that blocks writing labels, not reading.
        const char *lock = test::serverBackend() ? "BEGIN; LOCK TABLE graded_labels IN EXCLUSIVE MODE" : "BEGIN IMMEDIATE";
        // Held for less than the busy timeout (5 s): the write waits, then succeeds.
        holder.exec(lock);
        auto waiting = writer.addGraded({query, candidate, 2, "waiter"});
        QThread::msleep(1500);
        QCOMPARE(waiting.wait_for(std::chrono::seconds(0)), std::future_status::timeout);
        holder.exec("COMMIT");
        const auto waited = waiting.get();
        QVERIFY2(waited.has_value(), waited ? "" : waited.error().message.c_str());

        // Held for longer: a clear busy error, nothing written, and the next write works.
        holder.exec(lock);
        const auto busy = writer.addGraded({query, candidate, 3, "waiter"}).get();
        QVERIFY(!busy.has_value());
        QCOMPARE(busy.error().kind, ErrorKind::Busy);
        QVERIFY2(QString::fromStdString(busy.error().message).contains("in use by another process"), busy.error().message.c_str());
        const auto imported = cli({"import", m_project, "--dataset", test::sourcePath("resources/demo/clipart-smoke"),
                                   "--collection", "again"});
        QVERIFY2(imported.code != 0 && imported.err.contains("busy:") && imported.err.contains("in use by another process"),
                 qPrintable(imported.err));
        holder.exec("COMMIT");
        QCOMPARE(db.queryInt("SELECT count(*) FROM graded_labels").value(), before + 1);
        QCOMPARE(db.queryInt("SELECT count(*) FROM collections WHERE name = 'again'").value(), std::int64_t(0));
        QVERIFY(writer.addGraded({query, candidate, 3, "waiter"}).get().has_value());
    }
};

QTEST_GUILESS_MAIN(TestTwoInstances)
#include "test_two_instances.moc"
