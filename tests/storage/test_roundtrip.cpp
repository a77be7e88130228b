// SPDX-License-Identifier: GPL-3.0-or-later
// Import -> export -> import gives identical content; every export format has the expected shape.
#include "core/formats/line_reader.h"
#include "core/formats/trec.h"
#include "storage/dataset_export.h"
#include "storage/dataset_import.h"
#include "storage/repo/catalog.h"
#include "storage/repo/judgements.h"
#include "storage/repo/models.h"
#include "test_support.h"

#include "test_backend.h"

#include <QTemporaryDir>
#include <QTest>

using namespace unirank;
using namespace unirank::storage;
namespace fs = std::filesystem;

namespace {

// The content of a collection as text: queries, candidates (with image content hash), qrels, run.
std::string dump(Project &p, const std::string &collection)
{
    auto &db = p.db();
    const auto id = resolveCollection(db, collection);
    std::string out;
    for (const auto &q : listQueries(db, id))
        out += "Q " + q.query.id + "|" + q.query.text + "|" + q.query.imagePath + "|" + q.imageHash.value_or("") + "|" +
               q.query.metadata.dump() + "\n";
    for (const auto &c : listCandidates(db, id))
        out += "C " + c.candidate.id + "|" + std::string(toString(c.candidate.modality)) + "|" + c.candidate.title + "|" +
               c.candidate.text + "|" + c.candidate.imagePath + "|" + c.imageHash.value_or("") + "|" +
               c.candidate.metadata.dump() + "\n";
    for (const auto &q : currentQrels(db, id))
        out += "J " + q.queryId + " " + q.docId + " " + std::to_string(q.grade) + "\n";
    for (const auto &r : listFirstStageRuns(db, id))
        for (const auto &e : firstStageEntries(db, r.id))
            out += "R " + e.queryId + " " + e.docId + " " + std::to_string(e.rank) + " " + formatDouble(e.score) + " " +
                   e.tag + "\n";
    return out;
}

std::string folderBytes(const fs::path &dir)
{
    std::vector<fs::path> files;
    for (const auto &e : fs::recursive_directory_iterator(dir))
        if (e.is_regular_file())
            files.push_back(e.path());
    std::sort(files.begin(), files.end());
    std::string out;
    for (const auto &f : files)
        out += f.lexically_relative(dir).string() + "\n" + test::readText(f) + "\n";
    return out;
}

} // namespace

class TestRoundTrip : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    fs::path root() const { return fs::path(m_dir.path().toStdString()); }

    std::unique_ptr<Project> fresh(const char *name, const fs::path &dataset, const std::string &collection)
    {
        auto p = test::freshProject(root(), fs::path(name).stem().string());
        const auto s = importDataset(*p, dataset, ImportOptions{collection, "test", {}});
        if (!s)
            qFatal("%s", s.error().message.c_str());
        return p;
    }

private slots:
    void datasetRoundTripIsIdentical_data()
    {
        QTest::addColumn<QString>("which");
        QTest::newRow("smoke") << "smoke";
        QTest::newRow("tiny (text+image, extra fields, unicode)") << "tiny";
    }
    void datasetRoundTripIsIdentical()
    {
        QFETCH(QString, which);
        const std::string tag = which.toStdString();
        fs::path source = test::smokeDataset();
        if (tag == "tiny") {
            source = root() / "tiny-src";
            test::makeTinyDataset(source);
        }
        auto a = fresh(("a-" + tag + ".unirank").c_str(), source, "c");
        const auto exported = root() / ("export-" + tag);
        QVERIFY(exportDataset(*a, exported));
        auto b = fresh(("b-" + tag + ".unirank").c_str(), exported, "c");
        QCOMPARE(dump(*b, "c"), dump(*a, "c"));
        const auto again = root() / ("export2-" + tag);
        QVERIFY(exportDataset(*b, again));
        QCOMPARE(folderBytes(again), folderBytes(exported)); // export is deterministic
        // the exported qrels and run carry the source's content line for line
        QCOMPARE(readQrels(exported / "qrels.tsv").size(), readQrels(source / "qrels.tsv").size());
        const auto srcRun = readRun(source / "run.trec");
        const auto outRun = readRun(exported / "run.trec");
        QCOMPARE(outRun.size(), srcRun.size());
        for (std::size_t i = 0; i < srcRun.size(); ++i) {
            QCOMPARE(outRun[i].docId, srcRun[i].docId);
            QCOMPARE(outRun[i].score, srcRun[i].score);
        }
    }

    void exportOverwritesAtomically()
    {
        auto p = fresh("atomic.unirank", test::smokeDataset(), "c");
        const auto out = root() / "atomic-export";
        fs::create_directories(out);
        test::writeText(out / "stale.txt", "old export");
        QVERIFY(exportDataset(*p, out));
        QVERIFY(!fs::exists(out / "stale.txt"));
        QVERIFY(fs::exists(out / "corpus.jsonl"));
        // a failing export (unknown collection) leaves the previous export alone
        QVERIFY(!exportDataset(*p, out, "no-such-collection"));
        QVERIFY(fs::exists(out / "corpus.jsonl"));
    }

    void qrelsRunPrefsAndTrl()
    {
        auto p = fresh("labels.unirank", test::smokeDataset(), "c");
        auto &db = p->db();
        const auto cid = resolveCollection(db, "");
        // qrels: imported grades, with a newer human label overriding one
        const auto q = *findQueryId(db, cid, "dev-q0006");
        const auto top = *findCandidateId(db, cid, "c8141a749a0");   // grade 2, image? whatever its modality
        const auto other = *findCandidateId(db, cid, "c46aa03d5c9"); // grade 1
        const auto ann = ensureAnnotator(db, "alice");
        insertGradedLabel(db, q, other, 3, ann, GradedSource::Human);
        QCOMPARE(exportQrels(*p, root() / "q.txt").value(), std::size_t(599));
        const auto qrels = readQrels(root() / "q.txt");
        const auto it = std::find_if(qrels.begin(), qrels.end(), [](const QrelEntry &e) { return e.docId == "c46aa03d5c9"; });
        QCOMPARE(it->grade, 3);

        // prefs and TRL from pair labels
        insertPairLabel(db, PairLabelInput{q, top, other, PairOutcome::Left, ann, PairSource::Human, false, ""});
        insertPairLabel(db, PairLabelInput{q, other, top, PairOutcome::Tie, ensureAnnotator(db, "bob"), PairSource::Human,
                                           true, ""});
        QCOMPARE(exportPrefs(*p, root() / "prefs.txt").value(), std::size_t(2));
        const auto prefs = test::readText(root() / "prefs.txt");
        QVERIFY(prefs.find("dev-q0006 alice p1 c8141a749a0 2\ndev-q0006 alice p1 c46aa03d5c9 1\n") != std::string::npos);
        QVERIFY(prefs.find("dev-q0006 bob p2 c46aa03d5c9 1\ndev-q0006 bob p2 c8141a749a0 1\n") != std::string::npos);
        QCOMPARE(exportTrl(*p, root() / "pairs.jsonl").value(), std::size_t(1)); // the tie is not a preference
        const auto line = nlohmann::json::parse(test::readText(root() / "pairs.jsonl"));
        QCOMPARE(line["prompt"].get<std::string>(), std::string("duck ii yellow"));
        QCOMPARE(line["chosen_id"].get<std::string>(), std::string("c8141a749a0"));
        QCOMPARE(line["rejected_id"].get<std::string>(), std::string("c46aa03d5c9"));
        for (const char *side : {"chosen_images", "rejected_images"})
            for (const auto &img : line[side])
                QVERIFY(fs::is_regular_file(img.get<std::string>()));

        // runs: first stage, and a model version's scores with ties made strictly decreasing
        QCOMPARE(exportRun(*p, root() / "fs.trec", "first-stage").value(), std::size_t(599));
        QCOMPARE(readRun(root() / "fs.trec").front().tag, std::string("bm25-hidden-title"));
        const auto model = insertModelVersion(db, ModelVersionRow{0, "tiny", ModelKind::Base, "/m", "h", {}, {}, ""});
        const auto run = insertScoreRun(db, model, cid, {});
        insertScores(db, run, {{q, top, 0.5, 1}, {q, other, 0.5, 2}});
        QCOMPARE(exportRun(*p, root() / "m.trec", "tiny").value(), std::size_t(2));
        const auto m = readRun(root() / "m.trec");
        QCOMPARE(m[0].docId, std::string("c8141a749a0"));
        QVERIFY(m[1].score < m[0].score);
        const auto missing = exportRun(*p, root() / "x.trec", "unknown-model");
        QVERIFY(!missing);
        QVERIFY(missing.error().kind == ErrorKind::BadInput);
        QVERIFY(!fs::exists(root() / "x.trec"));
    }
};

QTEST_APPLESS_MAIN(TestRoundTrip)
#include "test_roundtrip.moc"
