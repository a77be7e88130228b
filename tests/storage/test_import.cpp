// SPDX-License-Identifier: GPL-3.0-or-later
// Importing datasets: the smoke set, and a catalogue of bad inputs, each with its expected message and
// a project left exactly as it was (database rows and media files).
#include "storage/dataset_import.h"
#include "storage/stats.h"
#include "test_support.h"

#include "test_backend.h"

#include <QTemporaryDir>
#include <QTest>

#include <functional>

#include <sys/stat.h>

using namespace unirank;
using namespace unirank::storage;
namespace fs = std::filesystem;

namespace {

using Mutation = std::function<void(const fs::path &)>;

void appendLine(const fs::path &file, const std::string &line) { test::writeText(file, test::readText(file) + line + "\n"); }

void replaceIn(const fs::path &file, const std::string &from, const std::string &to)
{
    auto text = test::readText(file);
    const auto at = text.find(from);
    if (at == std::string::npos)
        throw std::runtime_error("fixture text not found: " + from);
    text.replace(at, from.size(), to);
    test::writeText(file, text);
}

struct BadCase {
    const char *name;
    Mutation mutate;
    const char *message; ///< expected at the start of the error (after any "file:line: " it includes)
};

const std::vector<BadCase> &badCases()
{
    static const std::vector<BadCase> cases{
        {"duplicate corpus id", [](const fs::path &d) { appendLine(d / "corpus.jsonl", R"({"_id": "t1", "text": "again"})"); },
         "corpus.jsonl:6: field '_id': duplicate id 't1' (first on line 1)"},
        {"duplicate query id", [](const fs::path &d) { appendLine(d / "queries.jsonl", R"({"_id": "q1", "text": "x"})"); },
         "queries.jsonl:3: field '_id': duplicate id 'q1' (first on line 1)"},
        {"qrels unknown query", [](const fs::path &d) { replaceIn(d / "qrels.tsv", "q2\ti2", "q9\ti2"); },
         "qrels.tsv:5: field 'query-id': unknown query id 'q9'"},
        {"qrels unknown doc", [](const fs::path &d) { replaceIn(d / "qrels.tsv", "q1\tt2", "q1\tzz"); },
         "qrels.tsv:4: field 'corpus-id': unknown corpus id 'zz'"},
        {"run unknown doc", [](const fs::path &d) { replaceIn(d / "run.trec", "q1 Q0 i1", "q1 Q0 nope"); },
         "run.trec:2: field 'docid': unknown corpus id 'nope'"},
        {"run unknown query", [](const fs::path &d) { replaceIn(d / "run.trec", "q2 Q0 t3", "q7 Q0 t3"); },
         "run.trec:5: field 'qid': unknown query id 'q7'"},
        {"missing image", [](const fs::path &d) { fs::remove(d / "images" / "i1.png"); },
         "corpus.jsonl:4: field 'image': image file 'images/i1.png' does not exist"},
        {"undecodable image",
         [](const fs::path &d) {
             auto bytes = test::readText(d / "images" / "i1.png");
             test::writeText(d / "images" / "i1.png", bytes.substr(0, 100)); // truncated PNG
         },
         "corpus.jsonl:4: field 'image': image 'images/i1.png': cannot decode the image"},
        {"decompression bomb",
         [](const fs::path &d) {
             // A PNG header declaring 30000 x 30000 pixels (900 M, above the 64 M limit).
             std::string png("\x89PNG\r\n\x1a\n\0\0\0\x0dIHDR", 16);
             for (const std::uint32_t v : {30000u, 30000u})
                 for (int s = 24; s >= 0; s -= 8)
                     png += static_cast<char>((v >> s) & 0xFF);
             png += std::string("\x08\x02\0\0\0", 5);
             test::writeText(d / "images" / "i2.png", png);
         },
         "corpus.jsonl:5: field 'image': image 'images/i2.png': the header declares 30000x30000 pixels"},
        {"not an image", [](const fs::path &d) { test::writeText(d / "images" / "i2.png", "plain text"); },
         "corpus.jsonl:5: field 'image': image 'images/i2.png': not a PNG, JPEG"},
        {"empty image", [](const fs::path &d) { test::writeText(d / "images" / "i2.png", ""); },
         "corpus.jsonl:5: field 'image': image 'images/i2.png': the image file is empty"},
        {"invalid utf-8", [](const fs::path &d) { replaceIn(d / "corpus.jsonl", "A green pear.", "A gr\xE9""en pear."); },
         "corpus.jsonl:2: invalid UTF-8"},
        {"absolute image path", [](const fs::path &d) { replaceIn(d / "corpus.jsonl", "\"images/i1.png\"", "\"/etc/hostname\""); },
         "corpus.jsonl:4: field 'image': path '/etc/hostname' is absolute"},
        {"image path leaves folder",
         [](const fs::path &d) { replaceIn(d / "corpus.jsonl", "\"images/i1.png\"", "\"images/../../i1.png\""); },
         "corpus.jsonl:4: field 'image': path 'images/../../i1.png' leaves the dataset folder"},
        {"symlink out of folder",
         [](const fs::path &d) {
             fs::remove(d / "images" / "i1.png");
             fs::create_directory_symlink(d.parent_path(), d / "images" / "out");
             replaceIn(d / "corpus.jsonl", "\"images/i1.png\"", "\"images/out/outside.png\"");
         },
         "corpus.jsonl:4: field 'image': path 'images/out/outside.png' resolves outside the dataset folder"},
        {"malformed json", [](const fs::path &d) { replaceIn(d / "corpus.jsonl", "{\"_id\": \"t3\"", "{\"_id\": \"t3\",,"); },
         "corpus.jsonl:3: not valid JSON"},
        {"json not an object", [](const fs::path &d) { appendLine(d / "queries.jsonl", "[1, 2]"); },
         "queries.jsonl:3: expected a JSON object"},
        {"missing id", [](const fs::path &d) { appendLine(d / "corpus.jsonl", R"({"text": "no id"})"); },
         "corpus.jsonl:6: field '_id': missing"},
        {"id of wrong type", [](const fs::path &d) { appendLine(d / "corpus.jsonl", R"({"_id": ["x"], "text": "t"})"); },
         "corpus.jsonl:6: field '_id': expected a string"},
        {"id with whitespace", [](const fs::path &d) { appendLine(d / "queries.jsonl", R"({"_id": "q 3", "text": "t"})"); },
         "queries.jsonl:3: field '_id': id 'q 3' contains whitespace"},
        {"text of wrong type", [](const fs::path &d) { appendLine(d / "corpus.jsonl", R"({"_id": "t9", "text": 5})"); },
         "corpus.jsonl:6: field 'text': expected a string"},
        {"unknown modality", [](const fs::path &d) { replaceIn(d / "corpus.jsonl", "\"modality\": \"image\"", "\"modality\": \"video\""); },
         "corpus.jsonl:4: field 'modality': 'video' is not one of text, image, text+image"},
        {"image candidate without image",
         [](const fs::path &d) { appendLine(d / "corpus.jsonl", R"({"_id": "i9", "modality": "image"})"); },
         "corpus.jsonl:6: field 'image': an image candidate needs an image path"},
        {"qrels wrong columns", [](const fs::path &d) { appendLine(d / "qrels.tsv", "q1\tt3"); },
         "qrels.tsv:7: expected 3 columns"},
        {"qrels grade out of range", [](const fs::path &d) { replaceIn(d / "qrels.tsv", "q2\ti2\t3", "q2\ti2\t5"); },
         "qrels.tsv:5: field 'score': grade 5 is outside 0..3"},
        {"run wrong columns", [](const fs::path &d) { replaceIn(d / "run.trec", "q1 Q0 i1 2 7.25 bm25", "q1 Q0 i1 2 7.25"); },
         "run.trec:2: expected 6 columns"},
        {"run score not a number", [](const fs::path &d) { replaceIn(d / "run.trec", "7.25", "high"); },
         "run.trec:2: field 'score': expected a number"},
        {"missing qrels", [](const fs::path &d) { fs::remove(d / "qrels.tsv"); }, "qrels.tsv: missing"},
        // Hostile inputs (docs/hardening.md).
        {"deeply nested json",
         [](const fs::path &d) {
             appendLine(d / "corpus.jsonl", R"({"_id": "t9", "text": "x", "extra": )" + std::string(100000, '[') +
                                                std::string(100000, ']') + "}");
         },
         "corpus.jsonl:6: JSON nested deeper than 64 levels"},
        {"huge json line",
         [](const fs::path &d) {
             appendLine(d / "corpus.jsonl", R"({"_id": "t9", "text": ")" + std::string(17u << 20, 'a') + "\"}");
         },
         "corpus.jsonl:6: line is longer than 16777216 bytes"},
        {"invalid utf-8 in a json string",
         [](const fs::path &d) { appendLine(d / "queries.jsonl", "{\"_id\": \"q9\", \"text\": \"\xC3\x28\"}"); },
         "queries.jsonl:3: invalid UTF-8 at byte 24"},
        {"overlong utf-8 (a hidden '/')",
         [](const fs::path &d) { appendLine(d / "queries.jsonl", "{\"_id\": \"q9\", \"text\": \"\xC0\xAF\"}"); },
         "queries.jsonl:3: invalid UTF-8"},
        {"image is a fifo",
         [](const fs::path &d) {
             fs::remove(d / "images" / "i1.png");
             if (::mkfifo((d / "images" / "i1.png").c_str(), 0600) != 0)
                 throw std::runtime_error("mkfifo failed");
         },
         "corpus.jsonl:4: field 'image': image file 'images/i1.png' is not a regular file"},
        {"queries file is a fifo",
         [](const fs::path &d) {
             fs::remove(d / "queries.jsonl");
             if (::mkfifo((d / "queries.jsonl").c_str(), 0600) != 0)
                 throw std::runtime_error("mkfifo failed");
         },
         "queries.jsonl: not a regular file"},
        {"image symlink to /dev/zero",
         [](const fs::path &d) {
             fs::remove(d / "images" / "i1.png");
             fs::create_symlink("/dev/zero", d / "images" / "i1.png");
         },
         "corpus.jsonl:4: field 'image': path 'images/i1.png' resolves outside the dataset folder"},
        {"nan score in run", [](const fs::path &d) { replaceIn(d / "run.trec", "7.25", "nan"); },
         "run.trec:2: field 'score': number is not finite: 'nan'"},
        {"infinite score in run", [](const fs::path &d) { replaceIn(d / "run.trec", "7.25", "-inf"); },
         "run.trec:2: field 'score': number is not finite: '-inf'"},
        {"huge number in qrels", [](const fs::path &d) { replaceIn(d / "qrels.tsv", "q2\ti2\t3", "q2\ti2\t" + std::string(5000, '9')); },
         "qrels.tsv:5: field 'score': expected an integer, found '9999999999999999999999999999999999999999...' (5000 bytes)"},
        {"jpeg decompression bomb",
         [](const fs::path &d) {
             // SOI, then a baseline SOF0 declaring 65500 x 65500 pixels with 3 components, nothing more.
             std::string jpg("\xFF\xD8\xFF\xC0\x00\x11\x08\xFF\xDC\xFF\xDC\x03\x01\x22\x00\x02\x11\x01\x03\x11\x01", 21);
             test::writeText(d / "images" / "i2.png", jpg);
         },
         "corpus.jsonl:5: field 'image': image 'images/i2.png': the header declares 65500x65500 pixels"},
        {"missing corpus", [](const fs::path &d) { fs::remove(d / "corpus.jsonl"); }, "corpus.jsonl: missing"},
        {"empty queries", [](const fs::path &d) { test::writeText(d / "queries.jsonl", "\n"); }, "queries.jsonl: no queries"},
    };
    return cases;
}

// Everything a failed import could have touched: every table's row count and the media files.
std::string fingerprint(Project &p)
{
    std::string out;
    for (const char *t : {"collections", "media", "queries", "candidates", "first_stage_runs", "candidate_lists",
                          "annotators", "graded_labels", "pair_labels", "audit_log"})
        out += std::string(t) + "=" + std::to_string(p.db().queryInt(std::string("SELECT count(*) FROM ") + t).value()) + " ";
    std::vector<std::string> files;
    for (const auto &e : fs::recursive_directory_iterator(p.media().root()))
        if (e.is_regular_file())
            files.push_back(e.path().lexically_relative(p.media().root()).string());
    std::sort(files.begin(), files.end());
    for (const auto &f : files)
        out += f + " ";
    return out;
}

} // namespace

class TestImport : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    std::unique_ptr<Project> m_project;
    fs::path root() const { return fs::path(m_dir.path().toStdString()); }

private slots:
    void initTestCase()
    {
        m_project = test::freshProject(root(), "import");
        test::makeTinyDataset(root() / "tiny");
    }

    void importsSmokeSet()
    {
        std::vector<std::string> stages;
        ImportOptions options;
        options.onProgress = [&](std::string_view stage, std::size_t done, std::size_t total) {
            QVERIFY(done <= total);
            if (stages.empty() || stages.back() != stage)
                stages.emplace_back(stage);
        };
        const auto s = importDataset(*m_project, test::smokeDataset(), options);
        QVERIFY2(s, s ? "" : s.error().message.c_str());
        QCOMPARE(s->collectionName, std::string("demo/clipart-smoke"));
        QCOMPARE(s->queries, std::size_t(20));
        QCOMPARE(s->candidates, std::size_t(515));
        QCOMPARE(s->images, std::size_t(251));
        QCOMPARE(s->newMediaFiles, std::size_t(251));
        QCOMPARE(s->qrels, std::size_t(599));
        QCOMPARE(s->runEntries, std::size_t(599));
        QCOMPARE(stages, (std::vector<std::string>{"images", "write"}));

        const auto stats = projectStats(m_project->db()).value();
        QCOMPARE(stats.collections.size(), std::size_t(1));
        QCOMPARE(stats.collections[0].imageCandidates, std::int64_t(251));
        QCOMPARE(stats.collections[0].textCandidates, std::int64_t(264));
        QCOMPARE(stats.collections[0].gradedLabels, std::int64_t(599));
        QCOMPARE(stats.collections[0].listEntries, std::int64_t(599));
        QCOMPARE(stats.mediaFiles, std::int64_t(251));
        // every stored image is on disk under its content hash
        auto s2 = m_project->db().prepare("SELECT rel_path FROM media");
        while (s2.step())
            QVERIFY(fs::is_regular_file(m_project->media().absolutePath(s2.columnText(0))));
    }

    void sameImagesAreStoredOnce()
    {
        const auto s = importDataset(*m_project, test::smokeDataset(), ImportOptions{"smoke-again", "test", {}});
        QVERIFY(s);
        QCOMPARE(s->newMediaFiles, std::size_t(0));
        QCOMPARE(projectStats(m_project->db())->mediaFiles, std::int64_t(251));
    }

    void badInput_data()
    {
        QTest::addColumn<int>("index");
        for (std::size_t i = 0; i < badCases().size(); ++i)
            QTest::newRow(badCases()[i].name) << static_cast<int>(i);
        QTest::newRow("duplicate collection") << -1;
    }

    void badInput()
    {
        QFETCH(int, index);
        const auto ds = root() / ("bad-" + std::to_string(index + 1));
        fs::remove_all(ds);
        test::copyFolder(root() / "tiny", ds);
        std::string collection = "case-" + std::to_string(index + 1);
        std::string expected;
        if (index >= 0) {
            badCases()[static_cast<std::size_t>(index)].mutate(ds);
            expected = badCases()[static_cast<std::size_t>(index)].message;
        } else {
            collection = "demo/clipart-smoke";
            expected = "field 'collection': a collection named 'demo/clipart-smoke' already exists";
        }
        const auto before = fingerprint(*m_project);
        const auto result = importDataset(*m_project, ds, ImportOptions{collection, "test", {}});
        QVERIFY2(!result, "import of a bad dataset succeeded");
        QVERIFY(result.error().kind == ErrorKind::BadInput);
        QVERIFY2(result.error().message.starts_with(expected),
                 ("got: " + result.error().message + "\nexpected: " + expected).c_str());
        QCOMPARE(fingerprint(*m_project), before);
        QCOMPARE(m_project->db().integrityCheck(), std::string("ok"));
    }

    void failureAfterMediaCopyRemovesNewFiles()
    {
        // The tiny set's second image is new to the project; a clash found during the transaction (a
        // collection created concurrently under the same name) must remove the media files copied so far.
        const auto ds = root() / "late";
        test::copyFolder(root() / "tiny", ds);
        const auto before = fingerprint(*m_project);
        const bool server = test::serverBackend();
        m_project->db().exec(server ? "CREATE FUNCTION fail_late() RETURNS trigger LANGUAGE plpgsql AS "
                                      "$$ BEGIN RAISE EXCEPTION 'late failure'; END $$; "
                                      "CREATE TRIGGER fail_late BEFORE INSERT ON queries FOR EACH ROW EXECUTE FUNCTION fail_late()"
                                    : "CREATE TRIGGER fail_late BEFORE INSERT ON queries BEGIN SELECT RAISE(ABORT, 'late failure'); END");
        const auto result = importDataset(*m_project, ds, ImportOptions{"late", "test", {}});
        m_project->db().exec(server ? "DROP TRIGGER fail_late ON queries; DROP FUNCTION fail_late()" : "DROP TRIGGER fail_late");
        QVERIFY(!result);
        QVERIFY(result.error().message.find("late failure") != std::string::npos);
        QCOMPARE(fingerprint(*m_project), before);
        QVERIFY(importDataset(*m_project, ds, ImportOptions{"late", "test", {}}));
    }
};

QTEST_APPLESS_MAIN(TestImport)
#include "test_import.moc"
