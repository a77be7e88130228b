// SPDX-License-Identifier: GPL-3.0-or-later
#include "storage/project.h"
#include "storage/schema.h"
#include "test_backend.h"

#include <QTemporaryDir>
#include <QTest>

using namespace unirank;
using namespace unirank::storage;
namespace fs = std::filesystem;

class TestMigrations : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    fs::path path(const char *name) const { return fs::path(m_dir.path().toStdString()) / name; }

private slots:
    void freshDatabaseReachesLatest()
    {
        auto db = Database::open(test::scratchDatabase());
        const int applied = migrate(db);
        QCOMPARE(applied, static_cast<int>(projectMigrations().size()));
        QCOMPARE(db.userVersion(), projectMigrations().back().version);
        QCOMPARE(db.applicationId(), std::int64_t(kApplicationId));
        for (const char *table : {"collections", "media", "queries", "candidates", "first_stage_runs", "candidate_lists",
                                  "annotators", "graded_labels", "pair_labels", "model_versions", "score_runs",
                                  "scores", "training_runs", "training_metrics", "audit_log"})
            QVERIFY2(db.hasTable(table), table);
        QCOMPARE(migrate(db), 0); // idempotent
        QCOMPARE(db.queryInt("SELECT count(*) FROM audit_log WHERE action = 'migrate'").value(),
                 std::int64_t(projectMigrations().size()));
    }
    void appliesOnlyPendingStepsInOrder()
    {
        static constexpr Migration steps[] = {
            {1, "one", "CREATE TABLE a (x INTEGER);"},
            {2, "two", "ALTER TABLE a ADD COLUMN y TEXT; INSERT INTO a VALUES (1, 'from v2');"},
        };
        auto db = Database::open(test::scratchDatabase());
        QCOMPARE(migrate(db, std::span(steps, 1)), 1);
        QCOMPARE(db.userVersion(), 1);
        QCOMPARE(migrate(db, steps), 1);
        QCOMPARE(db.userVersion(), 2);
        QCOMPARE(db.queryInt("SELECT x FROM a WHERE y = 'from v2'"), std::optional<std::int64_t>(1));
    }
    void failingMigrationLeavesPreviousVersion()
    {
        static constexpr Migration steps[] = {
            {1, "one", "CREATE TABLE a (x INTEGER);"},
            {2, "broken", "CREATE TABLE b (y INTEGER); INSERT INTO nowhere VALUES (1);"},
        };
        auto db = Database::open(test::scratchDatabase());
        QVERIFY_THROWS_EXCEPTION(StorageError, migrate(db, steps));
        QCOMPARE(db.userVersion(), 1);
        QVERIFY(db.hasTable("a"));
        QVERIFY(!db.hasTable("b"));
    }
    void newerSchemaIsRefused()
    {
        const auto file = test::newProjectLocation(m_dir.path().toStdString(), "future");
        {
            auto p = test::createProject(file);
            QVERIFY(p);
            (*p)->db().setUserVersion(999);
        }
        const auto opened = Project::open(file);
        QVERIFY(!opened);
        QVERIFY(opened.error().kind == ErrorKind::BadInput);
        QVERIFY(opened.error().message.find("newer than this build") != std::string::npos);
    }
    void foreignDatabasesAreRefused()
    {
        if (!test::serverBackend())
            return foreignFiles();
        const auto other = test::scratchDatabase();
        Database::open(other).exec("CREATE TABLE notes (x TEXT)");
        auto opened = Project::open(other);
        QVERIFY(!opened);
        QVERIFY(opened.error().kind == ErrorKind::BadInput);
        QVERIFY2(opened.error().message.find("not a UniRank project") != std::string::npos, opened.error().message.c_str());
        const auto created = Project::create(other, path("shared-other"));
        QVERIFY(!created);
        QVERIFY2(created.error().message.find("already holds tables") != std::string::npos, created.error().message.c_str());
        const auto noFolder = Project::create(test::scratchDatabase());
        QVERIFY(!noFolder);
        QVERIFY(noFolder.error().message.find("shared folder") != std::string::npos);
        const auto unreachable = Project::open("postgresql://nobody:secret@127.0.0.1:1/none?connect_timeout=2");
        QVERIFY(!unreachable);
        QVERIFY2(unreachable.error().message.find("secret") == std::string::npos, unreachable.error().message.c_str());
        QVERIFY(unreachable.error().message.find("cannot connect") != std::string::npos);
    }
    void serverSchemaMatchesTheFile()
    {
        // One list of migrations, two dialects: every table has the same columns, in the same order.
        auto file = Database::open(":memory:");
        migrate(file);
        const auto tables = file.prepare("SELECT name FROM sqlite_schema WHERE type = 'table' ORDER BY name")
                                .collect([](const Statement &s) { return s.columnText(0); });
        QVERIFY(tables.size() >= 16);
        if (!test::serverBackend())
            return;
        auto server = Database::open(test::scratchDatabase());
        migrate(server);
        for (const auto &table : tables) {
            const auto local = file.prepare("SELECT name || ':' || \"notnull\" FROM pragma_table_info(?1) ORDER BY cid")
                                   .bind(1, table)
                                   .collect([](const Statement &s) { return s.columnText(0); });
            auto remote = server.prepare("SELECT column_name || ':' || CASE WHEN is_nullable = 'NO' THEN 1 ELSE 0 END "
                                         "FROM information_schema.columns WHERE table_schema = current_schema() "
                                         "AND table_name = ?1 ORDER BY ordinal_position")
                              .bind(1, table)
                              .collect([](const Statement &s) { return s.columnText(0); });
            // SQLite reports an INTEGER PRIMARY KEY (the rowid) as nullable; it never holds NULL.
            for (std::size_t i = 0; i < remote.size() && i < local.size(); ++i)
                if (remote[i] == "id:1" && local[i] == "id:0")
                    remote[i] = "id:0";
            QVERIFY2(local == remote, table.c_str());
        }
    }

private:
    void foreignFiles()
    {
        const auto other = path("other.sqlite");
        {
            auto db = Database::open(other);
            db.exec("CREATE TABLE notes (x TEXT)");
        }
        auto opened = Project::open(other);
        QVERIFY(!opened);
        QVERIFY(opened.error().message.find("not a UniRank project") != std::string::npos);

        const auto garbage = path("garbage.unirank");
        std::FILE *f = std::fopen(garbage.c_str(), "wb");
        std::fputs("this is not a database file, just some text that is long enough to have a header........", f);
        std::fclose(f);
        opened = Project::open(garbage);
        QVERIFY(!opened);
        QVERIFY(opened.error().kind == ErrorKind::BadInput);
        QVERIFY2(opened.error().message.find("not a UniRank project") != std::string::npos, opened.error().message.c_str());

        QVERIFY(!Project::open(path("missing.unirank")));
        QVERIFY(Project::create(path("new.unirank")));
        const auto again = Project::create(path("new.unirank"));
        QVERIFY(!again);
        QVERIFY(again.error().message.find("already exists") != std::string::npos);
    }

private slots:
    void connectionSettings()
    {
        auto p = test::createProject(test::newProjectLocation(m_dir.path().toStdString(), "settings"));
        QVERIFY(p);
        auto &db = (*p)->db();
        QVERIFY(fs::is_directory((*p)->media().root()));
        if (test::serverBackend()) {
            const auto setting = [&](const char *sql) { return db.prepare(sql).first([](const Statement &s) { return s.columnText(0); }); };
            QCOMPARE(setting("SHOW synchronous_commit"), std::optional<std::string>("on"));
            QCOMPARE(setting("SHOW TimeZone"), std::optional<std::string>("UTC"));
            QVERIFY(db.integrityCheck() == "ok");
            return;
        }
        auto s = db.prepare("PRAGMA journal_mode");
        QVERIFY(s.step());
        QCOMPARE(s.columnText(0), std::string("wal"));
        QCOMPARE(db.queryInt("PRAGMA foreign_keys"), std::optional<std::int64_t>(1));
        QCOMPARE(db.queryInt("PRAGMA synchronous"), std::optional<std::int64_t>(2)); // FULL
        QVERIFY(fs::is_directory(Project::mediaFolderFor((*p)->file())));
    }
};

QTEST_APPLESS_MAIN(TestMigrations)
#include "test_migrations.moc"
