// SPDX-License-Identifier: GPL-3.0-or-later
#include "storage/sqlite/database.h"

#include <QTest>

using namespace unirank;
using namespace unirank::storage;

class TestDatabase : public QObject {
    Q_OBJECT
    std::optional<Database> m_db;

private slots:
    void init()
    {
        m_db.emplace(Database::open(":memory:"));
        m_db->exec("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, score REAL, note TEXT)");
    }
    void bindAndRead()
    {
        m_db->prepare("INSERT INTO t (name, score, note) VALUES (?1, ?2, ?3)").bindAll("alpha", 1.5, nullptr).run();
        std::optional<std::string> note = "n";
        m_db->prepare("INSERT INTO t (name, score, note) VALUES (?1, ?2, ?3)").bindAll(std::string("b\xC3\xA9ta"), 2.0, note).run();
        QCOMPARE(m_db->lastInsertRowId(), std::int64_t(2));
        auto s = m_db->prepare("SELECT id, name, score, note FROM t ORDER BY id");
        QVERIFY(s.step());
        QCOMPARE(s.columnInt(0), std::int64_t(1));
        QCOMPARE(s.columnText(1), std::string("alpha"));
        QCOMPARE(s.columnDouble(2), 1.5);
        QVERIFY(s.isNull(3));
        QVERIFY(!s.columnOptionalText(3).has_value());
        QVERIFY(s.step());
        QCOMPARE(s.columnText(1), std::string("b\xC3\xA9ta"));
        QCOMPARE(s.columnOptionalText(3).value(), std::string("n"));
        QVERIFY(!s.step());
    }
    void invalidSqlThrows()
    {
        QVERIFY_THROWS_EXCEPTION(StorageError, m_db->prepare("SELEC nothing"));
        QVERIFY_THROWS_EXCEPTION(StorageError, m_db->exec("INSERT INTO missing VALUES (1)"));
    }
    void rejectsMultipleStatements()
    {
        QVERIFY_THROWS_EXCEPTION(StorageError, m_db->prepare("SELECT 1; DROP TABLE t"));
        QCOMPARE(m_db->queryInt("SELECT count(*) FROM sqlite_schema WHERE name = 't'"), std::optional<std::int64_t>(1));
        m_db->prepare("SELECT 1;  "); // trailing separator is fine
    }
    void constraintViolationThrows()
    {
        QVERIFY_THROWS_EXCEPTION(StorageError, m_db->prepare("INSERT INTO t (name) VALUES (NULL)").run());
    }
    void transactionRollsBackUnlessCommitted()
    {
        {
            Transaction tx(*m_db);
            m_db->exec("INSERT INTO t (name) VALUES ('gone')");
        }
        QCOMPARE(m_db->queryInt("SELECT count(*) FROM t"), std::optional<std::int64_t>(0));
        {
            Transaction tx(*m_db);
            m_db->exec("INSERT INTO t (name) VALUES ('kept')");
            tx.commit();
        }
        QCOMPARE(m_db->queryInt("SELECT count(*) FROM t"), std::optional<std::int64_t>(1));
    }
    void cachedStatementsAreResetForReuse()
    {
        for (int i = 0; i < 3; ++i)
            m_db->cached("INSERT INTO t (name, score) VALUES (?1, ?2)").bindAll("x", i).run();
        auto &s = m_db->cached("SELECT sum(score) FROM t");
        QVERIFY(s.step());
        QCOMPARE(s.columnInt(0), std::int64_t(3));
        auto &again = m_db->cached("SELECT sum(score) FROM t");
        QCOMPARE(&again, &s);
        QVERIFY(again.step()); // reset by cached()
    }
    void userVersionAndIntegrity()
    {
        QCOMPARE(m_db->userVersion(), 0);
        m_db->setUserVersion(7);
        QCOMPARE(m_db->userVersion(), 7);
        QCOMPARE(m_db->integrityCheck(), std::string("ok"));
    }
    void openMissingReadOnlyFails()
    {
        QVERIFY_THROWS_EXCEPTION(StorageError, Database::open("/nonexistent/dir/x.unirank", Database::Mode::ReadWrite));
    }
};

QTEST_APPLESS_MAIN(TestDatabase)
#include "test_database.moc"
