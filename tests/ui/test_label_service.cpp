// SPDX-License-Identifier: GPL-3.0-or-later
// LabelService without widgets: a write returns a ticket at once, also while another connection holds
// the project's write lock; the ack (done) comes once committed, "waiting" while the lock is held, and
// a Busy failure only after the configured attempts. Undo queued behind an unacknowledged write
// retracts that write; destroying the service finishes what was queued.
#include "label_fixture.h"
#include "storage/repo/judgements.h"
#include "ui/label_service.h"

#include <QElapsedTimer>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>

using namespace unirank;
using namespace unirank::storage;
namespace fs = std::filesystem;

class TestLabelService : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    fs::path m_file;
    std::int64_t m_q = 0, m_a = 0, m_b = 0;

    std::int64_t count(const char *table)
    {
        auto db = Database::open(m_file, Database::Mode::ReadOnly);
        return db.queryInt(std::string("SELECT count(*) FROM ") + table).value_or(-1);
    }

    static ui::LabelService::Reply replyAt(const QSignalSpy &spy, int i)
    {
        return spy.at(i).at(0).value<ui::LabelService::Reply>();
    }

private slots:
    void initTestCase()
    {
        qRegisterMetaType<ui::LabelService::Reply>();
        m_file = fs::path(m_dir.path().toStdString()) / "labels.unirank";
        const auto fixture = test::makeLabelProject(m_file);
        m_q = fixture.query;
        m_a = fixture.a;
        m_b = fixture.b;
    }

    void writeIsAcknowledgedOnceCommitted()
    {
        ui::LabelService service(m_file);
        QSignalSpy done(&service, &ui::LabelService::done);
        const auto before = count("graded_labels");
        const auto ticket = service.addGraded({m_q, m_a, 2, "alice"});
        QCOMPARE(service.pending(), 1);
        QVERIFY(done.wait(10000));
        const auto reply = replyAt(done, 0);
        QCOMPARE(reply.ticket, ticket);
        QVERIFY(!reply.error);
        QCOMPARE(reply.queryId, m_q);
        QVERIFY(reply.labelId > 0);
        QCOMPARE(service.pending(), 0);
        QVERIFY(service.history().canUndo);
        QCOMPARE(service.history().undoText, QStringLiteral("graded label 2"));
        QCOMPARE(count("graded_labels"), before + 1); // committed before the ack
    }

    void lockHeldByAnotherProcessDoesNotBlockTheCaller()
    {
        ui::LabelService service(m_file, nullptr, 200, 100); // up to 20 s of retries
        QSignalSpy done(&service, &ui::LabelService::done);
        QSignalSpy waiting(&service, &ui::LabelService::waiting);
        auto other = Database::open(m_file, Database::Mode::ReadWrite);
        other.exec("BEGIN IMMEDIATE");
        const auto before = count("pair_labels");
        QElapsedTimer timer;
        timer.start();
        const auto ticket =
            service.addPair({m_q, m_a, m_b, PairOutcome::Left, "alice", PairSource::Human, false, "random"});
        QVERIFY2(timer.elapsed() < 50, qPrintable(QString::number(timer.elapsed())));
        QVERIFY(waiting.wait(10000)); // one attempt timed out: retrying, the caller is told
        QCOMPARE(waiting.at(0).at(0).value<quint64>(), ticket);
        QCOMPARE(done.count(), 0);
        other.exec("COMMIT");
        QVERIFY(done.wait(10000));
        const auto reply = replyAt(done, 0);
        QVERIFY2(!reply.error, reply.error ? reply.error->message.c_str() : "");
        QCOMPARE(count("pair_labels"), before + 1);
    }

    void busyFailsAfterTheAttempts()
    {
        ui::LabelService service(m_file, nullptr, 100, 2);
        QSignalSpy done(&service, &ui::LabelService::done);
        auto other = Database::open(m_file, Database::Mode::ReadWrite);
        other.exec("BEGIN IMMEDIATE");
        const auto before = count("graded_labels");
        service.addGraded({m_q, m_b, 1, "alice"});
        QVERIFY(done.wait(10000));
        const auto reply = replyAt(done, 0);
        QVERIFY(reply.error.has_value());
        QCOMPARE(reply.error->kind, ErrorKind::Busy);
        QVERIFY(!service.history().canUndo); // nothing to undo: nothing was written
        other.exec("COMMIT");
        QCOMPARE(count("graded_labels"), before);
    }

    void undoQueuedBehindAnUnacknowledgedWrite()
    {
        ui::LabelService service(m_file);
        QSignalSpy done(&service, &ui::LabelService::done);
        service.addGraded({m_q, m_a, 3, "alice"});
        service.undo(); // submitted before the write's ack
        QTRY_COMPARE_WITH_TIMEOUT(done.count(), 2, 10000);
        const auto added = replyAt(done, 0), undone = replyAt(done, 1);
        QVERIFY(!added.error && !undone.error);
        QVERIFY(undone.op == ui::LabelService::Op::Undo);
        QCOMPARE(undone.labelId, added.labelId);
        QCOMPARE(undone.queryId, m_q);
        QVERIFY(service.history().canRedo);
        auto db = Database::open(m_file, Database::Mode::ReadOnly);
        QVERIFY(findGradedLabel(db, added.labelId)->retractedAt.has_value());
        service.undo(); // nothing left to undo: a clear error, nothing changes
        QTRY_COMPARE_WITH_TIMEOUT(done.count(), 3, 10000);
        QVERIFY(replyAt(done, 2).error.has_value());
        QCOMPARE(replyAt(done, 2).error->message, std::string("nothing to undo"));
    }

    void destructionFinishesQueuedWrites()
    {
        const auto before = count("graded_labels");
        {
            ui::LabelService service(m_file);
            for (int i = 0; i < 20; ++i)
                service.addGraded({m_q, i % 2 ? m_a : m_b, i % 4, "bob"});
        }
        QCOMPARE(count("graded_labels"), before + 20);
    }
};

QTEST_GUILESS_MAIN(TestLabelService)
#include "test_label_service.moc"
