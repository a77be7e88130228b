// SPDX-License-Identifier: GPL-3.0-or-later
// `unirank-cli migrate`'s copy: a file project through the backend under test (the server for
// test_project_copy_pg) and back into a file loses nothing: every row and value, every export byte.
#include "storage/dataset_export.h"
#include "storage/dataset_import.h"
#include "storage/project_copy.h"
#include "storage/repo/catalog.h"
#include "storage/repo/judgements.h"
#include "storage/repo/models.h"
#include "storage/repo/training.h"
#include "test_backend.h"
#include "test_support.h"

#include <QTemporaryDir>
#include <QTest>

#include <cstdio>
#include <map>

using namespace unirank;
using namespace unirank::storage;
namespace fs = std::filesystem;

namespace {

/// Every row of a table as text that tells storage classes apart (doubles in hex: bit for bit).
std::vector<std::string> rowsOf(Database &db, const std::string &table, const std::string &order)
{
    auto s = db.prepare("SELECT * FROM " + table + " ORDER BY " + order);
    std::vector<std::string> out;
    while (s.step()) {
        std::string row;
        for (int c = 0; c < s.columnCount(); ++c) {
            char hex[40];
            switch (s.columnType(c)) {
            case ColumnType::Null: row += "|N"; break;
            case ColumnType::Integer: row += "|I" + std::to_string(s.columnInt(c)); break;
            case ColumnType::Real: std::snprintf(hex, sizeof hex, "%a", s.columnDouble(c)); row += std::string("|R") + hex; break;
            case ColumnType::Text: row += "|T" + s.columnText(c); break;
            }
        }
        out.push_back(std::move(row));
    }
    return out;
}

/// The project's exports, file by file. TRL names images by absolute path inside the project's own media
/// folder (the same content-addressed file in each copy), so that folder reads as <media> here.
std::map<std::string, std::string> exportsOf(Project &p, const fs::path &dir)
{
    fs::create_directories(dir);
    if (!exportDataset(p, dir / "dataset") || !exportQrels(p, dir / "qrels.txt") || !exportPrefs(p, dir / "prefs.txt") ||
        !exportTrl(p, dir / "trl.jsonl") || !exportRun(p, dir / "run.trec", "model-a"))
        throw std::runtime_error("an export failed");
    std::map<std::string, std::string> files;
    for (const auto &e : fs::recursive_directory_iterator(dir))
        if (e.is_regular_file())
            files[fs::relative(e.path(), dir).string()] = test::readText(e.path());
    const std::string media = fs::absolute(p.media().root()).string();
    auto &trl = files.at("trl.jsonl");
    for (auto at = trl.find(media); at != std::string::npos; at = trl.find(media, at))
        trl.replace(at, media.size(), "<media>");
    return files;
}

} // namespace

class TestProjectCopy : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    fs::path root() const { return fs::path(m_dir.path().toStdString()); }

    std::unique_ptr<Project> labelledFileProject(const std::string &name)
    {
        auto p = std::move(Project::create(root() / (name + ".unirank")).value());
        if (!importDataset(*p, test::smokeDataset(), ImportOptions{"c", "test", {}}))
            qFatal("import failed");
        auto &db = p->db();
        const auto c = resolveCollection(db, "c");
        const auto queries = listQueries(db, c);
        const auto candidates = listCandidates(db, c);
        const auto ann = ensureAnnotator(db, "ann\xC3\xA9");
        const auto bob = ensureAnnotator(db, "bob");
        insertGradedLabel(db, queries[0].id, candidates[0].id, 3, ann, GradedSource::Human);
        const auto retracted = insertGradedLabel(db, queries[0].id, candidates[1].id, 0, bob, GradedSource::Human);
        setGradedLabelRetracted(db, retracted, true);
        insertPairLabel(db, {queries[1].id, candidates[2].id, candidates[3].id, PairOutcome::Left, ann, PairSource::Human,
                             true, "drawing \"fig. 2\" matches claim 1\n"});
        const auto undone = insertPairLabel(db, {queries[1].id, candidates[3].id, candidates[4].id, PairOutcome::Tie, bob,
                                                 PairSource::Human, false, ""});
        setPairLabelRetracted(db, undone, true);
        const auto base = insertModelVersion(db, {0, "base", ModelKind::Base, "/m/base", "h0", std::nullopt, {}, ""});
        const auto model = insertModelVersion(db, {0, "model-a", ModelKind::Adapter, "/m/a", "h1", base, {{"r", 8}}, ""});
        const auto run = insertScoreRun(db, model, c, {{"batch", 4}});
        std::vector<ScoreEntry> scores;
        int rank = 1;
        for (const auto &q : queries)
            for (std::size_t i = 0; i < 3; ++i)
                scores.push_back({q.id, candidates[i].id, 1.0 / 3.0 - static_cast<double>(i) * 1e-17 - rank * 0.1, rank++});
        insertScores(db, run, scores);
        const auto training = insertTrainingRun(db, "sft", {{"lr", 1e-4}}, base);
        insertTrainingMetric(db, training, {1, "loss", 0.6931471805599453});
        insertTrainingMetric(db, training, {2, "loss", 5e-324});
        return p;
    }

private slots:
    void roundTripLosesNothing()
    {
        auto a = labelledFileProject("a");
        const auto middle = test::newProjectLocation(root(), "middle");
        auto m = std::move(test::createProject(middle).value());
        const auto there = copyProject(*a, *m);
        QVERIFY2(there, there ? "" : there.error().message.c_str());
        QCOMPARE(there->mediaFiles, std::size_t(251));
        auto b = std::move(Project::create(root() / "b.unirank").value());
        const auto back = copyProject(*m, *b);
        QVERIFY2(back, back ? "" : back.error().message.c_str());
        QCOMPARE(back->rows, there->rows + 1); // the copy-project entry of the middle

        for (const auto &table : projectTablesInCopyOrder()) {
            const std::string order = table == std::string("media") ? "hash" : "1, 2, 3";
            const auto source = rowsOf(a->db(), table, order);
            if (table == std::string("audit_log")) {
                auto copied = rowsOf(b->db(), table, order);
                QCOMPARE(copied.size(), source.size() + 2);
                QVERIFY(copied.back().find("copy-project") != std::string::npos);
                copied.resize(source.size());
                QCOMPARE(copied, source);
                continue;
            }
            QVERIFY2(rowsOf(m->db(), table, order) == source, table);
            QVERIFY2(rowsOf(b->db(), table, order) == source, table);
        }
        const auto exported = exportsOf(*a, root() / "export-a");
        QVERIFY(exported.size() > 250);
        QVERIFY(exportsOf(*m, root() / "export-middle") == exported);
        QVERIFY(exportsOf(*b, root() / "export-b") == exported);

        // The copy goes on as a project: a new label gets a fresh id, not one of the copied ones.
        auto &db = m->db();
        const auto maxId = db.queryInt("SELECT max(id) FROM pair_labels").value();
        const auto q = listQueries(db, resolveCollection(db, "c")).front().id;
        const auto cands = listCandidates(db, resolveCollection(db, "c"));
        QCOMPARE(insertPairLabel(db, {q, cands[0].id, cands[1].id, PairOutcome::Right, ensureAnnotator(db, "carol"),
                                      PairSource::Human, false, ""}),
                 maxId + 1);
    }

    void refusesAProjectWithRows()
    {
        auto a = labelledFileProject("full-a");
        auto m = test::freshProject(root(), "full-m");
        QVERIFY(importDataset(*m, test::smokeDataset(), ImportOptions{"other", "test", {}}));
        const auto before = rowsOf(m->db(), "queries", "id");
        const auto r = copyProject(*a, *m);
        QVERIFY(!r);
        QVERIFY(r.error().kind == ErrorKind::BadInput);
        QVERIFY2(r.error().message.find("not empty") != std::string::npos, r.error().message.c_str());
        QCOMPARE(rowsOf(m->db(), "queries", "id"), before);
    }

    void failedCopyLeavesTheDestinationEmpty()
    {
        auto a = labelledFileProject("fail-a");
        auto m = test::freshProject(root(), "fail-m");
        auto &db = m->db();
        const bool server = test::serverBackend();
        db.exec(server ? "CREATE FUNCTION fail_late() RETURNS trigger LANGUAGE plpgsql AS "
                         "$$ BEGIN RAISE EXCEPTION 'late failure'; END $$; "
                         "CREATE TRIGGER fail_late BEFORE INSERT ON training_metrics FOR EACH ROW EXECUTE FUNCTION fail_late()"
                       : "CREATE TRIGGER fail_late BEFORE INSERT ON training_metrics BEGIN SELECT RAISE(ABORT, 'late failure'); END");
        const auto r = copyProject(*a, *m);
        QVERIFY(!r);
        QVERIFY2(r.error().message.find("late failure") != std::string::npos, r.error().message.c_str());
        for (const auto &table : projectTablesInCopyOrder())
            if (table != std::string("audit_log"))
                QVERIFY2(db.queryInt(std::string("SELECT count(*) FROM ") + table) == std::optional<std::int64_t>(0), table);
        const auto files = std::count_if(fs::recursive_directory_iterator(m->media().root()), fs::recursive_directory_iterator(),
                                         [](const fs::directory_entry &e) { return e.is_regular_file(); });
        QCOMPARE(files, 0); // the images copied before the failure are gone again
        db.exec(server ? "DROP TRIGGER fail_late ON training_metrics; DROP FUNCTION fail_late()" : "DROP TRIGGER fail_late");
        QVERIFY(copyProject(*a, *m)); // and the copy can simply be run again
    }
};

QTEST_APPLESS_MAIN(TestProjectCopy)
#include "test_project_copy.moc"
