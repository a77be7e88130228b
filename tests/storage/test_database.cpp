// SPDX-License-Identifier: GPL-3.0-or-later
// The connection wrappers, on both backends (test_database on SQLite, test_database_pg on the server).
#include "storage/db/database.h"
#include "storage/db/pg_sql.h"
#include "test_backend.h"

#include <QTest>

using namespace unirank;
using namespace unirank::storage;

class TestDatabase : public QObject {
    Q_OBJECT
    std::optional<Database> m_db;

private slots:
    void init()
    {
        m_db.emplace(Database::open(test::scratchDatabase()));
        m_db->execSchema("CREATE TABLE t (id INTEGER PRIMARY KEY, name TEXT NOT NULL, score REAL, note TEXT)");
    }
    void bindAndRead()
    {
        m_db->prepare("INSERT INTO t (name, score, note) VALUES (?1, ?2, ?3)").bindAll("alpha", 1.5, nullptr).run();
        std::optional<std::string> note = "n";
        const auto id = m_db->prepare("INSERT INTO t (name, score, note) VALUES (?1, ?2, ?3) RETURNING id")
                            .bindAll(std::string("b\xC3\xA9ta"), 2.0, note)
                            .runReturningId();
        QCOMPARE(id, std::int64_t(2));
        QCOMPARE(m_db->backend(), test::serverBackend() ? Backend::PostgreSQL : Backend::SQLite);
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
        QVERIFY(m_db->hasTable("t"));
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
    void doublesRoundTripExactly()
    {
        // Scores must survive a store/load (and a file <-> server migration) bit for bit.
        const double values[] = {0.1, 1.0 / 3.0, -2.5e-300, 123456789.123456789, 5e-324, 1.7976931348623157e308};
        for (const double v : values)
            m_db->cached("INSERT INTO t (name, score) VALUES ('d', ?1)").bind(1, v).run();
        auto s = m_db->prepare("SELECT score FROM t WHERE name = 'd' ORDER BY id");
        for (const double v : values) {
            QVERIFY(s.step());
            QCOMPARE(s.columnDouble(0), v);
        }
    }
    void changesCountsRows()
    {
        m_db->exec("INSERT INTO t (name) VALUES ('a'), ('b'), ('c')");
        m_db->prepare("UPDATE t SET note = 'x' WHERE name <> ?1").bind(1, "a").run();
        QCOMPARE(m_db->changes(), 2);
        m_db->prepare("INSERT INTO t (id, name) VALUES (1, 'dup') ON CONFLICT DO NOTHING").run();
        QCOMPARE(m_db->changes(), 0);
    }
    void constraintErrorsAreMarked()
    {
        try {
            m_db->prepare("INSERT INTO t (name) VALUES (?1)").bind(1, nullptr).run();
            QFAIL("a NOT NULL violation must throw");
        } catch (const StorageError &e) {
            QVERIFY(e.constraint());
            QCOMPARE(e.kind(), ErrorKind::Internal);
        }
    }
    void textIsComparedByteWise()
    {
        // SQLite compares TEXT by bytes; the server's TEXT COLLATE "C" must order ext ids the same way.
        for (const char *name : {"b", "B", "a", "\xC3\xA9", "_", "10", "9"})
            m_db->cached("INSERT INTO t (name) VALUES (?1)").bind(1, name).run();
        const auto names = m_db->prepare("SELECT name FROM t ORDER BY name").collect([](const Statement &s) {
            return s.columnText(0);
        });
        const std::vector<std::string> expected{"10", "9", "B", "_", "a", "b", "\xC3\xA9"};
        QCOMPARE(names, expected);
    }
    void serverSqlTranslation()
    {
        using detail::toPostgresStatement;
        const auto t = toPostgresStatement("SELECT '?1', \"a?\" FROM x -- what?\nWHERE a = ?2 AND b = ? AND c = ?1");
        QCOMPARE(t.sql, std::string("SELECT '?1', \"a?\" FROM x -- what?\nWHERE a = $2 AND b = $1 AND c = $1"));
        QCOMPARE(t.parameters, 2);
        QCOMPARE(toPostgresStatement(std::string("UPDATE t SET at = ") + kNowSql).sql, std::string("UPDATE t SET at = unirank_now()"));
        const auto ddl = detail::toPostgresSchema("CREATE TABLE m (id INTEGER PRIMARY KEY, s REAL, n INTEGER, t TEXT,\n"
                                                  "PRIMARY KEY (n)) WITHOUT ROWID;");
        QCOMPARE(ddl, std::string("CREATE TABLE m (id BIGINT GENERATED BY DEFAULT AS IDENTITY PRIMARY KEY, s DOUBLE PRECISION, "
                                  "n BIGINT, t TEXT COLLATE \"C\",\nPRIMARY KEY (n));"));
    }
    void serverSessionsCarryUniRankSettings()
    {
        if (!test::serverBackend()) // a file has no session; its counterpart is openMissingReadOnlyFails
            return openMissingReadOnlyFails();
        const auto setting = [](const std::string &url, const char *name = "application_name") {
            auto db = Database::open(url);
            auto s = db.prepare("SELECT current_setting(?1)");
            s.bind(1, std::string(name));
            return s.step() ? s.columnText(0) : std::string();
        };
        const auto admin = test::serverAdminUrl();
        QVERIFY(admin.find('?') == std::string::npos);
        QCOMPARE(setting(admin), std::string("unirank")); // UniRank's default...
        QCOMPARE(setting(admin + "?application_name=triage"), std::string("triage")); // ...the URL's wins
        qputenv("PGAPPNAME", "from-environment"); // ...and so does the user's environment
        const auto fromEnvironment = setting(admin);
        qunsetenv("PGAPPNAME");
        QCOMPARE(fromEnvironment, std::string("from-environment"));
        // Every session still commits durably, whatever the URL asks of the server's defaults.
        QCOMPARE(setting(admin + "?options=-c%20synchronous_commit%3Doff", "synchronous_commit"), std::string("on"));
    }
    void serverLocationsAreRedacted()
    {
        QVERIFY(isServerLocation("postgresql://u@h/db"));
        QVERIFY(isServerLocation("postgres://h/db"));
        QVERIFY(!isServerLocation("/home/a/postgresql.unirank"));
        QCOMPARE(redactedLocation("postgresql://ann:s3cret@db.example.org:5433/patents"),
                 std::string("postgresql://ann:***@db.example.org:5433/patents"));
        QCOMPARE(redactedLocation("postgresql://db/patents?user=ann&password=s3cret&sslmode=require"),
                 std::string("postgresql://db/patents?user=ann&password=***&sslmode=require"));
        QCOMPARE(redactedLocation("study.unirank"), std::string("study.unirank"));
    }
};

QTEST_APPLESS_MAIN(TestDatabase)
#include "test_database.moc"
