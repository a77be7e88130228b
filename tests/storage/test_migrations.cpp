// SPDX-License-Identifier: GPL-3.0-or-later
#include "storage/project.h"
#include "storage/schema.h"

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
        auto db = Database::open(":memory:");
        const int applied = migrate(db);
        QCOMPARE(applied, static_cast<int>(projectMigrations().size()));
        QCOMPARE(db.userVersion(), projectMigrations().back().version);
        QCOMPARE(db.queryInt("PRAGMA application_id").value(), std::int64_t(kApplicationId));
        for (const char *table : {"collections", "media", "queries", "candidates", "first_stage_runs", "candidate_lists",
                                  "annotators", "graded_labels", "pair_labels", "model_versions", "score_runs",
                                  "scores", "training_runs", "training_metrics", "audit_log"})
            QVERIFY2(db.queryInt(std::string("SELECT count(*) FROM sqlite_schema WHERE type='table' AND name='") + table +
                                 "'") == std::optional<std::int64_t>(1),
                     table);
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
        auto db = Database::open(":memory:");
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
        auto db = Database::open(":memory:");
        QVERIFY_THROWS_EXCEPTION(StorageError, migrate(db, steps));
        QCOMPARE(db.userVersion(), 1);
        QCOMPARE(db.queryInt("SELECT count(*) FROM sqlite_schema WHERE name = 'b'"), std::optional<std::int64_t>(0));
    }
    void newerSchemaIsRefused()
    {
        const auto file = path("future.unirank");
        {
            auto p = Project::create(file);
            QVERIFY(p);
            (*p)->db().setUserVersion(999);
        }
        const auto opened = Project::open(file);
        QVERIFY(!opened);
        QVERIFY(opened.error().kind == ErrorKind::BadInput);
        QVERIFY(opened.error().message.find("newer than this build") != std::string::npos);
    }
    void foreignFilesAreRefused()
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
    void connectionSettings()
    {
        auto p = Project::create(path("settings.unirank"));
        QVERIFY(p);
        auto &db = (*p)->db();
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
