// SPDX-License-Identifier: GPL-3.0-or-later
// unirank-cli as a user runs it: help for every command, exit codes 0/1/2, errors on stderr.
#include "cli_run.h"
#include "test_support.h"

#include <nlohmann/json.hpp>

#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

namespace fs = std::filesystem;

namespace {

using Run = unirank::test::CliRun;

Run cli(const QStringList &args)
{
    return unirank::test::runCli(QStringLiteral(UNIRANK_CLI), args, {120000, {}, false});
}

} // namespace

class TestCli : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QString path(const QString &name) const { return m_dir.filePath(name); }
    QString smoke() const { return QString::fromStdString(unirank::test::smokeDataset().string()); }

private slots:
    void helpForEveryCommand_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("mentions");
        QTest::newRow("top") << QStringList{"--help"} << "import";
        QTest::newRow("init") << QStringList{"init", "--help"} << "PROJECT";
        QTest::newRow("import") << QStringList{"import", "--help"} << "--dataset";
        QTest::newRow("export") << QStringList{"export", "--help"} << "--model-version";
        QTest::newRow("stats") << QStringList{"stats", "--help"} << "--json";
        QTest::newRow("bench") << QStringList{"bench", "storage", "--help"} << "--labels";
    }
    void helpForEveryCommand()
    {
        QFETCH(QStringList, args);
        QFETCH(QString, mentions);
        const auto r = cli(args);
        QCOMPARE(r.code, 0);
        QVERIFY2(r.out.contains(mentions), qPrintable(r.out));
    }

    void workflow()
    {
        const auto project = path(QStringLiteral("w.unirank"));
        auto r = cli({"init", project});
        QCOMPARE(r.code, 0);
        r = cli({"import", project, "--dataset", smoke(), "--json"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        const auto summary = nlohmann::json::parse(r.out.toStdString());
        QCOMPARE(summary["candidates"].get<int>(), 515);
        r = cli({"stats", project, "--json"});
        QCOMPARE(r.code, 0);
        const auto stats = nlohmann::json::parse(r.out.toStdString());
        QCOMPARE(stats["collections"][0]["queries"].get<int>(), 20);
        QCOMPARE(stats["media_files"].get<int>(), 251);
        r = cli({"stats", project});
        QVERIFY(r.out.contains(QStringLiteral("demo/clipart-smoke")));

        QCOMPARE(cli({"export", project, "--qrels", path("q.txt")}).code, 0);
        QCOMPARE(cli({"export", project, "--run", path("r.trec"), "--model-version", "first-stage"}).code, 0);
        QCOMPARE(cli({"export", project, "--prefs", path("p.txt")}).code, 0);
        QCOMPARE(cli({"export", project, "--trl", path("t.jsonl")}).code, 0);
        QCOMPARE(cli({"export", project, "--dataset", path("ds")}).code, 0);
        QCOMPARE(unirank::test::readText(path("q.txt").toStdString()).substr(0, 26), std::string("dev-q0006 0 c8141a749a0 2\n"));
        QVERIFY(fs::exists(path("ds/images").toStdString()));

        // a second project from the exported folder holds the same numbers
        const auto project2 = path(QStringLiteral("w2.unirank"));
        QCOMPARE(cli({"init", project2}).code, 0);
        QCOMPARE(cli({"import", project2, "--dataset", path("ds"), "--collection", "demo/clipart-smoke"}).code, 0);
        auto stats2 = nlohmann::json::parse(cli({"stats", project2, "--json"}).out.toStdString());
        auto a = stats["collections"][0], b = stats2["collections"][0];
        a.erase("split"); // the folder name differs: clipart-smoke vs ds
        b.erase("split");
        QVERIFY2(a == b, (a.dump() + " vs " + b.dump()).c_str());
    }

    void badInputExitsWithOne_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("message");
        QTest::newRow("no command") << QStringList{} << "subcommand";
        QTest::newRow("unknown option") << QStringList{"stats", "x.unirank", "--bogus"} << "--bogus";
        QTest::newRow("missing project") << QStringList{"stats", "does-not-exist.unirank"} << "no such project file";
        QTest::newRow("init twice") << QStringList{"init", "@existing"} << "already exists";
        QTest::newRow("missing dataset") << QStringList{"import", "@existing", "--dataset", "/no/such/folder"} << "not a folder";
        QTest::newRow("export needs a format") << QStringList{"export", "@existing"} << "choose one of";
        QTest::newRow("run needs model") << QStringList{"export", "@existing", "--run", "x.trec"} << "--model-version";
        QTest::newRow("two formats") << QStringList{"export", "@existing", "--qrels", "a", "--prefs", "b"} << "excludes";
        QTest::newRow("empty project export") << QStringList{"export", "@existing", "--qrels", "q"} << "no collections";
    }
    void badInputExitsWithOne()
    {
        QFETCH(QStringList, args);
        QFETCH(QString, message);
        const auto existing = path(QStringLiteral("existing.unirank"));
        if (!QFile::exists(existing))
            QCOMPARE(cli({"init", existing}).code, 0);
        args.replaceInStrings(QStringLiteral("@existing"), existing);
        const auto r = cli(args);
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains(message), qPrintable(r.err));
        QVERIFY(r.out.isEmpty());
    }

    void badDatasetNamesFileAndLine()
    {
        const auto project = path(QStringLiteral("bad.unirank"));
        QCOMPARE(cli({"init", project}).code, 0);
        const auto ds = path(QStringLiteral("baddata")).toStdString();
        unirank::test::makeTinyDataset(ds);
        unirank::test::writeText(fs::path(ds) / "qrels.tsv", "query-id\tcorpus-id\tscore\nq1\tt1\t2\nq1\tmissing\t1\n");
        const auto r = cli({"import", project, "--dataset", QString::fromStdString(ds)});
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains(QStringLiteral("qrels.tsv:3: field 'corpus-id': unknown corpus id 'missing'")), qPrintable(r.err));
        const auto stats = nlohmann::json::parse(cli({"stats", project, "--json"}).out.toStdString());
        QCOMPARE(stats["collections"].size(), std::size_t(0));
    }

    void notAProjectIsBadInput()
    {
        unirank::test::writeText(path("junk.unirank").toStdString(), std::string(4096, 'x'));
        const auto r = cli({"stats", path("junk.unirank")});
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains(QStringLiteral("not a UniRank project")), qPrintable(r.err));
    }
};

QTEST_GUILESS_MAIN(TestCli)
#include "test_cli.moc"
