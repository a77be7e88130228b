// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/formats/line_reader.h"
#include "core/formats/trec.h"
#include "test_support.h"

#include <QTemporaryDir>
#include <QTest>

#include <cmath>

using namespace unirank;
namespace fs = std::filesystem;

class TestTrecFormats : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    fs::path file(const char *name) { return fs::path(m_dir.path().toStdString()) / name; }

    QString errorOf(const std::function<void()> &f)
    {
        try {
            f();
        } catch (const InputError &e) {
            return QString::fromUtf8(e.what());
        }
        return {};
    }

private slots:
    void readsBeirQrels()
    {
        test::writeText(file("qrels.tsv"), "query-id\tcorpus-id\tscore\nq1\td1\t2\n\nq1\td2\t0\r\nq2\td1\t1\n");
        const auto q = readQrels(file("qrels.tsv"));
        QCOMPARE(q.size(), std::size_t(3));
        QCOMPARE(q[0].queryId, std::string("q1"));
        QCOMPARE(q[0].grade, 2);
        QCOMPARE(q[1].docId, std::string("d2"));
        QCOMPARE(q[1].line, std::int64_t(4)); // blank line 3 skipped, CRLF tolerated
        QCOMPARE(q[2].grade, 1);
    }
    void readsTrecQrels()
    {
        test::writeText(file("qrels.txt"), "q1 0 d1 3\nq1 0 d2 0\n");
        const auto q = readQrels(file("qrels.txt"));
        QCOMPARE(q.size(), std::size_t(2));
        QCOMPARE(q[0].grade, 3);
    }
    void qrelsErrors_data()
    {
        QTest::addColumn<QByteArray>("text");
        QTest::addColumn<QString>("message");
        QTest::newRow("columns") << QByteArray("query-id\tcorpus-id\tscore\nq1\td1\n") << "qrels.tsv:2: expected 3 columns";
        QTest::newRow("grade") << QByteArray("query-id\tcorpus-id\tscore\nq1\td1\tx\n") << "qrels.tsv:2: field 'score': expected an integer";
        QTest::newRow("range") << QByteArray("query-id\tcorpus-id\tscore\nq1\td1\t7\n") << "qrels.tsv:2: field 'score': grade 7 is outside 0..3";
        QTest::newRow("duplicate") << QByteArray("query-id\tcorpus-id\tscore\nq1\td1\t1\nq1\td1\t2\n") << "qrels.tsv:3: duplicate judgement for query 'q1' and document 'd1' (first on line 2)";
        QTest::newRow("header") << QByteArray("query-id\tdoc\tscore\n") << "qrels.tsv:1: header must be";
        QTest::newRow("utf8") << QByteArray("query-id\tcorpus-id\tscore\nq\xE9\td1\t1\n") << "qrels.tsv:2: invalid UTF-8";
    }
    void qrelsErrors()
    {
        QFETCH(QByteArray, text);
        QFETCH(QString, message);
        test::writeText(file("qrels.tsv"), text.toStdString());
        const auto err = errorOf([&] { readQrels(file("qrels.tsv")); });
        QVERIFY2(err.startsWith(message), qPrintable(err));
    }
    void readsRunAndRejectsDuplicates()
    {
        test::writeText(file("run.trec"), "q1 Q0 d1 1 3.5 tag\nq1 Q0 d2 2 1e-3 tag\n");
        const auto run = readRun(file("run.trec"));
        QCOMPARE(run.size(), std::size_t(2));
        QCOMPARE(run[1].score, 1e-3);
        test::writeText(file("run.trec"), "q1 Q0 d1 1 3.5 tag\nq1 Q0 d1 2 1 tag\n");
        QVERIFY(errorOf([&] { readRun(file("run.trec")); }).startsWith("run.trec:2: field 'docid': document 'd1' listed twice"));
        test::writeText(file("run.trec"), "q1 Q0 d1 1 nan tag\n");
        QVERIFY(errorOf([&] { readRun(file("run.trec")); }).contains("field 'score'"));
        test::writeText(file("run.trec"), "q1 Q0 d1 1 tag\n");
        QVERIFY(errorOf([&] { readRun(file("run.trec")); }).startsWith("run.trec:1: expected 6 columns"));
    }
    void writtenRunScoresStrictlyDecrease()
    {
        std::vector<RunEntry> entries{{"q2", "b", 2, 1.0, "", 0}, {"q2", "a", 1, 1.0, "", 0},
                                      {"q1", "x", 1, 0.5, "", 0}, {"q1", "y", 2, 0.7, "", 0},
                                      {"q1", "z", 3, 0.7, "", 0}};
        writeRun(file("out.trec"), entries, "mine");
        const auto back = readRun(file("out.trec"));
        QCOMPARE(back.size(), entries.size());
        // q2 first (first appearance), in rank order a, b; every query's scores strictly decrease.
        QCOMPARE(back[0].docId, std::string("a"));
        QCOMPARE(back[1].docId, std::string("b"));
        QCOMPARE(back[0].score, 1.0);
        QVERIFY(back[1].score < back[0].score);
        QCOMPARE(back[1].score, std::nextafter(1.0, -INFINITY));
        QCOMPARE(back[2].docId, std::string("x"));
        QVERIFY(back[3].score < back[2].score && back[4].score < back[3].score);
        QCOMPARE(back[4].rank, 3);
        QCOMPARE(back[4].tag, std::string("mine"));
    }
    void formatDoubleRoundTrips()
    {
        for (double v : {17.496, 0.1, 1e-300, 123456789.123456789, -2.5})
            QCOMPARE(parseDouble(formatDouble(v), {}), v);
    }
    void prefsMapping()
    {
        std::vector<PairPreference> prefs{
            {1, "q1", "a", "b", PairOutcome::Left, "ann", PairSource::Human},
            {2, "q1", "c", "a", PairOutcome::Tie, "ann", PairSource::Human},
            {3, "q1", "d", "e", PairOutcome::BothIrrelevant, "ann", PairSource::Human},
            {4, "q1", "d", "b", PairOutcome::Right, "ann", PairSource::Human}, // d is 0 in p3: own group
            {5, "q2", "a", "b", PairOutcome::Right, "", PairSource::Mined},
        };
        QCOMPARE(writeTrecPrefs(file("prefs.txt"), prefs), std::size_t(5));
        const auto text = test::readText(file("prefs.txt"));
        const std::string expected = "q1 ann p1 a 2\nq1 ann p1 b 1\n"
                                     "q1 ann p2 c 1\nq1 ann p2 a 1\n"
                                     "q1 ann p3 d 0\nq1 ann p3 e 0\n"
                                     "q1 ann.p4 p4 d 1\nq1 ann.p4 p4 b 2\n"
                                     "q2 mined p5 a 1\nq2 mined p5 b 2\n";
        QCOMPARE(QString::fromStdString(text), QString::fromStdString(expected));
    }
};

QTEST_APPLESS_MAIN(TestTrecFormats)
#include "test_trec_formats.moc"
