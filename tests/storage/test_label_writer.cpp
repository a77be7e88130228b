// SPDX-License-Identifier: GPL-3.0-or-later
#include "storage/label_writer.h"
#include "storage/repo/catalog.h"
#include "storage/repo/judgements.h"
#include "label_fixture.h"
#include "test_support.h"

#include "test_backend.h"

#include <QTemporaryDir>
#include <QTest>

using namespace unirank;
using namespace unirank::storage;
namespace fs = std::filesystem;

class TestLabelWriter : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    fs::path m_file;
    std::int64_t m_q = 0, m_a = 0, m_b = 0;

private slots:
    void initTestCase()
    {
        m_file = test::newProjectLocation(fs::path(m_dir.path().toStdString()), "labels");
        const auto fixture = test::makeLabelProject(m_file);
        m_q = fixture.query;
        m_a = fixture.a;
        m_b = fixture.b;
    }

    void acknowledgedWritesAreVisibleToOtherConnections()
    {
        LabelWriter writer(m_file);
        const auto g = writer.addGraded({m_q, m_a, 2, "alice"}).get();
        QVERIFY(g);
        const auto p = writer.addPair({m_q, m_a, m_b, PairOutcome::Right, "alice", PairSource::Human, true, "random"}).get();
        QVERIFY(p);
        auto db = Database::open(m_file, Database::Mode::ReadOnly);
        QCOMPARE(findGradedLabel(db, *g)->grade, 2);
        const auto row = findPairLabel(db, *p).value();
        QVERIFY(row.input.outcome == PairOutcome::Right);
        QVERIFY(row.input.shownSwapped);
        QCOMPARE(db.queryInt("SELECT count(*) FROM audit_log WHERE action = 'label'"), std::optional<std::int64_t>(2));
    }

    void badWriteFailsAloneInItsBatch()
    {
        LabelWriter writer(m_file);
        std::vector<std::future<Result<std::int64_t>>> futures;
        for (int i = 0; i < 50; ++i) {
            if (i == 25)
                futures.push_back(writer.addGraded({m_q, 999999, 1, "alice"})); // unknown candidate
            else if (i == 30)
                futures.push_back(writer.addGraded({m_q, m_a, 9, "alice"}));   // grade out of range
            else if (i == 35)
                futures.push_back(writer.addGraded({m_q, m_a, 1, "bad name"})); // invalid annotator
            else
                futures.push_back(writer.addGraded({m_q, (i % 2) ? m_a : m_b, i % 4, "bob"}));
        }
        int ok = 0;
        for (std::size_t i = 0; i < futures.size(); ++i) {
            const auto r = futures[i].get();
            if (i == 25 || i == 30 || i == 35) {
                QVERIFY(!r);
                QVERIFY(r.error().kind == ErrorKind::BadInput);
            } else {
                QVERIFY2(r, r ? "" : r.error().message.c_str());
                ++ok;
            }
        }
        QCOMPARE(ok, 47);
        auto db = Database::open(m_file, Database::Mode::ReadOnly);
        QCOMPARE(db.queryInt("SELECT count(*) FROM graded_labels g JOIN annotators a ON a.id = g.annotator_id WHERE a.name = 'bob'"),
                 std::optional<std::int64_t>(47));
    }

    void undoRedo()
    {
        LabelWriter writer(m_file);
        const auto id = writer.addGraded({m_q, m_b, 3, "carol"}).get().value();
        QCOMPARE(writer.setRetracted(LabelTable::Graded, id, true).get().value(), id);
        {
            auto db = Database::open(m_file, Database::Mode::ReadOnly);
            QVERIFY(findGradedLabel(db, id)->retractedAt.has_value());
        }
        QVERIFY(writer.setRetracted(LabelTable::Graded, id, false).get());
        auto db = Database::open(m_file, Database::Mode::ReadOnly);
        QVERIFY(!findGradedLabel(db, id)->retractedAt.has_value());
        const auto missing = writer.setRetracted(LabelTable::Pair, 424242, true).get();
        QVERIFY(!missing);
        QVERIFY(missing.error().kind == ErrorKind::BadInput);
    }

    void destructorFinishesQueuedWrites()
    {
        std::vector<std::future<Result<std::int64_t>>> futures;
        {
            LabelWriter writer(m_file, 8);
            for (int i = 0; i < 100; ++i)
                futures.push_back(writer.addPair({m_q, m_a, m_b, PairOutcome::Tie, "dave", PairSource::Human, false, ""}));
        }
        for (auto &f : futures)
            QVERIFY(f.get());
        auto db = Database::open(m_file, Database::Mode::ReadOnly);
        QCOMPARE(db.queryInt("SELECT count(*) FROM pair_labels p JOIN annotators a ON a.id = p.annotator_id WHERE a.name = 'dave'"),
                 std::optional<std::int64_t>(100));
    }

    void lostServerConnectionIsReopened()
    {
        // A file has no connection to lose; this checks the file still writes after the same steps.
        LabelWriter writer(m_file);
        QVERIFY(writer.addGraded({m_q, m_a, 1, "erin"}).get());
        if (test::serverBackend()) {
            // The server drops the writer's session (a restart, a network cut, an administrator).
            auto admin = Database::open(test::serverAdminUrl());
            const auto database = m_file.native().substr(m_file.native().rfind('/') + 1);
            admin.prepare("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = ?1 AND "
                          "pid <> pg_backend_pid()")
                .bind(1, database)
                .run();
            const auto during = writer.addGraded({m_q, m_a, 2, "erin"}).get();
            if (!during) // the write that finds the connection gone fails as busy (retried by the app)...
                QCOMPARE(during.error().kind, ErrorKind::Busy);
        }
        const auto after = writer.addGraded({m_q, m_a, 3, "erin"}).get(); // ...and the next one reconnects
        QVERIFY2(after, after ? "" : after.error().message.c_str());
        auto db = Database::open(m_file, Database::Mode::ReadOnly);
        QCOMPARE(findGradedLabel(db, *after)->grade, 3);
    }

    void unopenableProjectFailsEveryWrite()
    {
        LabelWriter writer(fs::path(m_dir.path().toStdString()) / "missing" / "x.unirank");
        const auto r = writer.addGraded({m_q, m_a, 1, "alice"}).get();
        QVERIFY(!r);
        QVERIFY(r.error().message.find("cannot open") != std::string::npos);
    }
};

QTEST_APPLESS_MAIN(TestLabelWriter)
#include "test_label_writer.moc"
