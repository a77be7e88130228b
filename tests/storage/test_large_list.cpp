// SPDX-License-Identifier: GPL-3.0-or-later
// A hostile-size input (docs/hardening.md): one query whose first-stage list holds 10^6 candidates.
// The import must succeed as one transaction, the list must read back whole and in rank order, and a
// second import of the same folder must be refused as a duplicate collection without touching the
// first. Timings are printed for the hardening table (not asserted: machines differ).
#include "storage/browse.h"
#include "storage/dataset_import.h"
#include "storage/repo/catalog.h"
#include "test_support.h"

#include <QElapsedTimer>
#include <QTemporaryDir>
#include "test_backend.h"

#include <QTest>

#include <fstream>

using namespace unirank;
using namespace unirank::storage;
namespace fs = std::filesystem;

namespace {
constexpr int kCandidates = 1'000'000;

void writeMillionDataset(const fs::path &dir)
{
    fs::create_directories(dir);
    std::ofstream corpus(dir / "corpus.jsonl"), run(dir / "run.trec"), qrels(dir / "qrels.tsv");
    std::ofstream(dir / "queries.jsonl") << R"({"_id": "q1", "text": "a long first-stage list"})" << "\n";
    qrels << "query-id\tcorpus-id\tscore\n";
    for (int i = 0; i < kCandidates; ++i) {
        corpus << R"({"_id": "d)" << i << R"(", "text": "candidate passage number )" << i << "\"}\n";
        run << "q1 Q0 d" << i << ' ' << (i + 1) << ' ' << (kCandidates - i) << " bm25\n";
        if (i % 10000 == 0)
            qrels << "q1\td" << i << "\t2\n";
    }
}
} // namespace

class TestLargeList : public QObject {
    Q_OBJECT

private slots:
    void millionCandidateList()
    {
        QTemporaryDir tmp;
        const fs::path root = tmp.path().toStdString();
        QElapsedTimer timer;
        timer.start();
        writeMillionDataset(root / "million");
        qInfo("wrote the dataset (%lld MB of corpus.jsonl) in %.1f s",
              static_cast<long long>(fs::file_size(root / "million" / "corpus.jsonl") >> 20), timer.elapsed() / 1000.0);

        auto project = test::freshProject(root, "p");
        timer.restart();
        const auto summary = importDataset(*project, root / "million");
        QVERIFY2(summary.has_value(), summary ? "" : summary.error().message.c_str());
        qInfo("imported %zu candidates and %zu run entries in %.1f s (read %.1f s, write %.1f s)", summary->candidates,
              summary->runEntries, timer.elapsed() / 1000.0, summary->readSeconds, summary->writeSeconds);
        QCOMPARE(summary->candidates, std::size_t(kCandidates));
        QCOMPARE(summary->runEntries, std::size_t(kCandidates));
        QCOMPARE(summary->qrels, std::size_t(kCandidates / 10000));

        const auto queryId = project->db().queryInt("SELECT id FROM queries").value();
        timer.restart();
        const auto list = firstStageQuery(project->db(), queryId);
        qInfo("read the ranked list back in %.2f s", timer.elapsed() / 1000.0);
        QCOMPARE(list.size(), std::size_t(kCandidates));
        for (std::size_t i = 1; i < list.size(); ++i)
            QVERIFY(list[i - 1].rank < list[i].rank && list[i - 1].score > list[i].score);

        // The same folder again: refused, and the project is unchanged.
        const auto again = importDataset(*project, root / "million");
        QVERIFY(!again.has_value());
        QCOMPARE(project->db().queryInt("SELECT count(*) FROM candidates").value(), std::int64_t(kCandidates));
        QCOMPARE(project->db().integrityCheck(), std::string("ok"));
    }
};

QTEST_GUILESS_MAIN(TestLargeList)
#include "test_large_list.moc"
