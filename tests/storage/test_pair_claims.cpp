// SPDX-License-Identifier: GPL-3.0-or-later
// Pair claims on both backends: one pair on one analyst's screen at a time, agreement overlaps
// allowed, labels close claims, leases expire. Then five analyst processes label one collection at
// once (a minute on the server, 15 s on a file): no acknowledged label is lost and no pair is judged
// twice outside an agreement overlap.
#include "storage/dataset_export.h"
#include "storage/dataset_import.h"
#include "storage/label_writer.h"
#include "storage/pair_claims.h"
#include "storage/repo/catalog.h"
#include "storage/repo/judgements.h"
#include "test_backend.h"
#include "test_support.h"

#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <map>
#include <set>
#include <thread>

using namespace unirank;
using namespace unirank::storage;
namespace fs = std::filesystem;

class TestPairClaims : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    std::string m_location;
    std::int64_t m_query = 0;
    std::vector<std::int64_t> m_cands;

    std::int64_t openClaims(Database &db)
    {
        return db.queryInt("SELECT count(*) FROM pair_claims WHERE closed_at IS NULL").value_or(-1);
    }

private slots:
    void initTestCase()
    {
        m_location = test::newProjectLocation(m_dir.path().toStdString(), "claims");
        auto p = std::move(test::createProject(m_location).value());
        QVERIFY(importDataset(*p, test::smokeDataset(), ImportOptions{"c", "test", {}}));
        auto &db = p->db();
        const auto c = resolveCollection(db, "c");
        m_query = listQueries(db, c).front().id;
        for (const auto &row : listCandidates(db, c))
            m_cands.push_back(row.id);
    }

    void onePairOneScreen()
    {
        auto db = Database::open(m_location, Database::Mode::ReadWrite);
        const auto a = m_cands[0], b = m_cands[1];
        QCOMPARE(claimPair(db, {m_query, a, b, "ann", false}).value(), ClaimOutcome::Claimed);
        QCOMPARE(claimPair(db, {m_query, b, a, "bob", false}).value(), ClaimOutcome::Taken); // either order
        QCOMPARE(claimPair(db, {m_query, a, b, "ann", false}).value(), ClaimOutcome::Claimed); // a reopened tab
        QCOMPARE(claimPair(db, {m_query, a, b, "bob", true}).value(), ClaimOutcome::Claimed);  // agreement overlap
        QCOMPARE(openClaims(db), std::int64_t(2));

        {
            LabelWriter writer(m_location);
            QVERIFY(writer.addPair({m_query, b, a, PairOutcome::Left, "ann", PairSource::Human, true, "random"}).get());
        }
        QCOMPARE(openClaims(db), std::int64_t(1)); // ann's claim closed by the label, bob's overlap open
        QCOMPARE(claimPair(db, {m_query, a, b, "carol", false}).value(), ClaimOutcome::Judged);
        QCOMPARE(openClaims(db), std::int64_t(1)); // a refused claim leaves no row
        QCOMPARE(claimPair(db, {m_query, a, b, "carol", true}).value(), ClaimOutcome::Claimed);
        QCOMPARE(releasePairClaims(db, "carol").value(), 1);
        QCOMPARE(releasePairClaims(db, "bob").value(), 1);
        QCOMPARE(openClaims(db), std::int64_t(0));
        QVERIFY(!claimPair(db, {m_query, a, a, "ann", false}));
    }

    void leasesExpire()
    {
        auto db = Database::open(m_location, Database::Mode::ReadWrite);
        const auto a = m_cands[2], b = m_cands[3];
        QCOMPARE(claimPair(db, {m_query, a, b, "crashed", false, std::chrono::seconds(0)}).value(), ClaimOutcome::Claimed);
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
        QCOMPARE(claimPair(db, {m_query, a, b, "dave", false}).value(), ClaimOutcome::Claimed);
        QCOMPARE(releasePairClaims(db, "dave").value(), 1);
    }

    void fiveAnalystsAtOnce()
    {
        const int seconds = test::serverBackend() ? 60 : 15;
        std::vector<std::unique_ptr<QProcess>> children;
        for (int i = 0; i < 5; ++i) {
            auto child = std::make_unique<QProcess>();
            child->setProcessChannelMode(QProcess::SeparateChannels);
            child->start(QStringLiteral(UNIRANK_TEAM_CHILD), {QString::fromStdString(m_location),
                                                              QStringLiteral("analyst%1").arg(i), QString::number(seconds),
                                                              QString::number(1000 + i)});
            QVERIFY2(child->waitForStarted(10000), qPrintable(child->errorString()));
            children.push_back(std::move(child));
        }
        std::vector<QByteArray> acks;
        std::map<QByteArray, int> refused;
        for (auto &child : children) {
            QVERIFY(child->waitForFinished((seconds + 120) * 1000));
            QVERIFY2(child->exitStatus() == QProcess::NormalExit && child->exitCode() == 0,
                     child->readAllStandardError().constData());
            for (const auto &line : child->readAllStandardOutput().split('\n'))
                if (line.startsWith("ack "))
                    acks.push_back(line);
                else if (line.startsWith("refused "))
                    ++refused[line.mid(8)];
        }
        auto db = Database::open(m_location, Database::Mode::ReadOnly);
        std::map<std::tuple<std::int64_t, std::int64_t, std::int64_t>, int> firstJudgements;
        int agreements = 0;
        for (const auto &line : acks) {
            const auto f = line.split(' ');
            QCOMPARE(f.size(), qsizetype(6));
            const auto row = findPairLabel(db, f[1].toLongLong());
            QVERIFY2(row, qPrintable("acknowledged label lost: " + line));
            QCOMPARE(std::min(row->input.leftId, row->input.rightId), f[3].toLongLong());
            if (f[5] == "agreement")
                ++agreements;
            else
                ++firstJudgements[{f[2].toLongLong(), f[3].toLongLong(), f[4].toLongLong()}];
        }
        // In the database too: a pair has at most one judgement that was not an agreement overlap.
        const auto doubled = db.queryInt("SELECT count(*) FROM (SELECT query_id FROM pair_labels WHERE reason <> 'agreement' "
                                         "AND source = 'human' GROUP BY query_id, CASE WHEN left_id < right_id THEN left_id "
                                         "ELSE right_id END, CASE WHEN left_id < right_id THEN right_id ELSE left_id END "
                                         "HAVING count(*) > 1) d");
        QCOMPARE(doubled, std::optional<std::int64_t>(0));
        for (const auto &[pair, n] : firstJudgements)
            QCOMPARE(n, 1);
        QCOMPARE(openClaims(db), std::int64_t(0));
        QVERIFY2(acks.size() > 100, qPrintable(QString::number(acks.size())));
        // The analysts did compete for pairs: without the claims these would have been judged twice.
        QVERIFY(refused["taken"] + refused["judged"] > 0);
        qInfo("5 analysts, %d s: %zu labels acknowledged and found, %zu pairs judged once, %d agreement overlaps, "
              "%d pairs refused (%d on another screen, %d judged meanwhile), 0 lost, 0 pairs served twice",
              seconds, acks.size(), firstJudgements.size(), agreements, refused["taken"] + refused["judged"],
              refused["taken"], refused["judged"]);
    }
};

QTEST_GUILESS_MAIN(TestPairClaims)
#include "test_pair_claims.moc"
