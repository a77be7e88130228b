// SPDX-License-Identifier: GPL-3.0-or-later
// Every entity of the project schema, on an in-memory database.
#include "storage/repo/audit.h"
#include "storage/repo/catalog.h"
#include "storage/repo/judgements.h"
#include "storage/repo/models.h"
#include "storage/model_publish.h"
#include "storage/repo/training.h"
#include "storage/schema.h"

#include "test_backend.h"

#include <QTemporaryDir>
#include <QTest>

#include <fstream>

using namespace unirank;
using namespace unirank::storage;

class TestRepositories : public QObject {
    Q_OBJECT
    std::optional<Database> m_db;
    std::int64_t m_collection = 0, m_q1 = 0, m_q2 = 0, m_text = 0, m_image = 0, m_both = 0;
    const std::string m_hash = std::string(64, 'a');

private slots:
    void init()
    {
        m_db.emplace(Database::open(test::scratchDatabase()));
        migrate(*m_db);
        auto &db = *m_db;
        m_collection = insertCollection(db, "clipart/dev", "dev", "/data/dev");
        QVERIFY(insertMedia(db, MediaRow{m_hash, "aa/x.png", ImageInfo{10, 20, 3, "png"}, 1234}));
        QVERIFY(!insertMedia(db, MediaRow{m_hash, "aa/x.png", ImageInfo{10, 20, 3, "png"}, 1234})); // stored once
        m_q1 = insertQuery(db, m_collection, Query{"q1", "red apple", "", {{"k", 1}}}, std::nullopt);
        m_q2 = insertQuery(db, m_collection, Query{"q2", "", "images/q.png", {}}, m_hash);
        m_text = insertCandidate(db, m_collection, Candidate{"t1", Modality::Text, "Apple", "A red apple.", "", {}},
                                 std::nullopt);
        m_image = insertCandidate(db, m_collection, Candidate{"i1", Modality::Image, "", "", "images/x.png", {}}, m_hash);
        m_both = insertCandidate(db, m_collection,
                                 Candidate{"b1", Modality::TextImage, "Pear", "", "images/x.png", {{"src", "x"}}}, m_hash);
    }

    void collectionsQueriesCandidates()
    {
        auto &db = *m_db;
        QCOMPARE(findCollection(db, "clipart/dev")->split, std::string("dev"));
        QVERIFY(!findCollection(db, "nope"));
        QCOMPARE(listCollections(db).size(), std::size_t(1));
        QVERIFY_THROWS_EXCEPTION(StorageError, insertCollection(db, "clipart/dev", "", "")); // unique name
        const auto queries = listQueries(db, m_collection);
        QCOMPARE(queries.size(), std::size_t(2));
        QCOMPARE(queries[0].query.metadata["k"].get<int>(), 1);
        QCOMPARE(queries[1].imageHash.value(), m_hash);
        const auto cands = listCandidates(db, m_collection);
        QCOMPARE(cands.size(), std::size_t(3));
        QVERIFY(cands[1].candidate.modality == Modality::Image);
        QVERIFY(cands[2].candidate.modality == Modality::TextImage);
        QCOMPARE(cands[2].candidate.metadata["src"].get<std::string>(), std::string("x"));
        QCOMPARE(findCandidateId(db, m_collection, "i1"), std::optional(m_image));
        QCOMPARE(findQueryId(db, m_collection, "q2"), std::optional(m_q2));
        QCOMPARE(findMedia(db, m_hash)->info.height, 20);
        // modality and image must agree; image hashes must name stored media
        QVERIFY_THROWS_EXCEPTION(StorageError,
                                 insertCandidate(db, m_collection, Candidate{"bad", Modality::Image, "", "", "", {}},
                                                 std::nullopt));
        QVERIFY_THROWS_EXCEPTION(StorageError, insertCandidate(db, m_collection,
                                                               Candidate{"bad2", Modality::Image, "", "", "y.png", {}},
                                                               std::string(64, 'b')));
        QVERIFY_THROWS_EXCEPTION(StorageError, insertCandidate(db, m_collection, Candidate{"t1", Modality::Text, "", "x", "", {}},
                                                               std::nullopt)); // duplicate ext id
    }

    void firstStageLists()
    {
        auto &db = *m_db;
        const auto run = insertFirstStageRun(db, m_collection, "bm25");
        insertListEntry(db, run, m_q1, m_image, 2, 1.5);
        insertListEntry(db, run, m_q1, m_text, 1, 2.5);
        QVERIFY_THROWS_EXCEPTION(StorageError, insertListEntry(db, run, m_q1, m_text, 3, 0.5));
        const auto entries = firstStageEntries(db, run);
        QCOMPARE(entries.size(), std::size_t(2));
        QCOMPARE(entries[0].docId, std::string("t1"));
        QCOMPARE(entries[1].score, 1.5);
        QCOMPARE(entries[1].tag, std::string("bm25"));
        QCOMPARE(listFirstStageRuns(db, m_collection).size(), std::size_t(1));
    }

    void annotatorsAndGradedLabels()
    {
        auto &db = *m_db;
        const auto ann = ensureAnnotator(db, "alice");
        QCOMPARE(ensureAnnotator(db, "alice"), ann);
        QVERIFY_THROWS_EXCEPTION(InputError, ensureAnnotator(db, "bad name"));
        QVERIFY_THROWS_EXCEPTION(InputError, ensureAnnotator(db, ""));
        QCOMPARE(listAnnotators(db).size(), std::size_t(1));

        const auto first = insertGradedLabel(db, m_q1, m_text, 1, ann, GradedSource::Human);
        insertGradedLabel(db, m_q1, m_image, 0, ann, GradedSource::Imported);
        const auto newer = insertGradedLabel(db, m_q1, m_text, 3, ann, GradedSource::Human);
        QVERIFY_THROWS_EXCEPTION(StorageError, insertGradedLabel(db, m_q1, m_text, 4, ann, GradedSource::Human));
        auto qrels = currentQrels(db, m_collection);
        QCOMPARE(qrels.size(), std::size_t(2));
        QCOMPARE(qrels[0].docId, std::string("t1"));
        QCOMPARE(qrels[0].grade, 3); // newest wins, first-judged order kept
        QVERIFY(setGradedLabelRetracted(db, newer, true)); // undo
        QCOMPARE(currentQrels(db, m_collection)[0].grade, 1);
        QVERIFY(findGradedLabel(db, newer)->retractedAt.has_value());
        QVERIFY(setGradedLabelRetracted(db, newer, false)); // redo
        QCOMPARE(currentQrels(db, m_collection)[0].grade, 3);
        QVERIFY(!setGradedLabelRetracted(db, 9999, true));
        QCOMPARE(findGradedLabel(db, first)->grade, 1);
    }

    void pairLabels()
    {
        auto &db = *m_db;
        const auto ann = ensureAnnotator(db, "bob");
        PairLabelInput in{m_q1, m_text, m_image, PairOutcome::Left, ann, PairSource::Human, true, "hard-negative"};
        const auto id = insertPairLabel(db, in);
        const auto row = findPairLabel(db, id).value();
        QVERIFY(row.input.outcome == PairOutcome::Left);
        QVERIFY(row.input.shownSwapped);
        QCOMPARE(row.input.reason, std::string("hard-negative"));
        QCOMPARE(row.input.annotatorId, std::optional(ann));
        // the same pair again, sides swapped: supersedes the first label
        insertPairLabel(db, PairLabelInput{m_q1, m_image, m_text, PairOutcome::Tie, ann, PairSource::Human, false, ""});
        insertPairLabel(db, PairLabelInput{m_q1, m_text, m_both, PairOutcome::BothIrrelevant, std::nullopt,
                                           PairSource::Mined, false, "uncertain"});
        auto prefs = currentPreferences(db, m_collection);
        QCOMPARE(prefs.size(), std::size_t(2));
        QVERIFY(prefs[0].outcome == PairOutcome::Tie);
        QCOMPARE(prefs[0].annotator, std::string("bob"));
        QVERIFY(prefs[1].source == PairSource::Mined);
        QVERIFY(setPairLabelRetracted(db, prefs[0].id, true));
        prefs = currentPreferences(db, m_collection);
        // undoing the re-label brings back the label it had superseded
        QCOMPARE(prefs.size(), std::size_t(2));
        QVERIFY(prefs[0].outcome == PairOutcome::Left);
        QCOMPARE(prefs[0].id, id);
        // a human label needs an annotator; a pair needs two different candidates
        QVERIFY_THROWS_EXCEPTION(StorageError, insertPairLabel(db, PairLabelInput{m_q1, m_text, m_image, PairOutcome::Left,
                                                                                  std::nullopt, PairSource::Human, false, ""}));
        QVERIFY_THROWS_EXCEPTION(StorageError, insertPairLabel(db, PairLabelInput{m_q1, m_text, m_text, PairOutcome::Left,
                                                                                  ann, PairSource::Human, false, ""}));
        QVERIFY_THROWS_EXCEPTION(StorageError, insertPairLabel(db, PairLabelInput{m_q1, m_text, 4242, PairOutcome::Left,
                                                                                  ann, PairSource::Human, false, ""}));
    }

    void modelVersionsAndScoreRuns()
    {
        auto &db = *m_db;
        ModelVersionRow base{0, "qwen2vl-tiny", ModelKind::Base, "/models/tiny", "h0", std::nullopt, {{"dtype", "f32"}}, ""};
        const auto baseId = insertModelVersion(db, base);
        ModelVersionRow adapter{0, "sft-1", ModelKind::Adapter, "/adapters/sft-1", "h1", baseId, {}, ""};
        const auto adapterId = insertModelVersion(db, adapter);
        ModelVersionRow orphan{0, "orphan", ModelKind::Adapter, "/x", "h2", std::nullopt, {}, ""};
        QVERIFY_THROWS_EXCEPTION(StorageError, insertModelVersion(db, orphan));
        QVERIFY_THROWS_EXCEPTION(StorageError, insertModelVersion(db, base)); // duplicate name
        const auto lineage = modelLineage(db, adapterId);
        QCOMPARE(lineage.size(), std::size_t(2));
        QCOMPARE(lineage[1].name, std::string("qwen2vl-tiny"));
        QCOMPARE(findModelVersion(db, "qwen2vl-tiny")->metadata["dtype"].get<std::string>(), std::string("f32"));
        QCOMPARE(listModelVersions(db).size(), std::size_t(2));

        const auto run1 = insertScoreRun(db, adapterId, m_collection, {{"batch", 8}});
        insertScores(db, run1, {{m_q1, m_text, 0.9, 1}, {m_q1, m_image, 0.4, 2}});
        const auto run2 = insertScoreRun(db, adapterId, m_collection, {});
        insertScores(db, run2, {{m_q1, m_image, 0.8, 1}, {m_q1, m_text, 0.3, 2}});
        QCOMPARE(latestScoreRun(db, adapterId, m_collection), std::optional(run2));
        QVERIFY(!latestScoreRun(db, baseId, m_collection));
        const auto entries = scoreRunEntries(db, run2);
        QCOMPARE(entries.size(), std::size_t(2));
        QCOMPARE(entries[0].docId, std::string("i1"));
        QCOMPARE(entries[0].tag, std::string("sft-1"));
        QVERIFY_THROWS_EXCEPTION(StorageError, insertScores(db, run2, {{m_q1, m_both, 0.1, 0}})); // rank >= 1
    }

    void publishCopiesTheModelFilesOnly()
    {
        auto &db = *m_db;
        QTemporaryDir tmp;
        const std::filesystem::path dir = tmp.path().toStdString();
        const auto checkpoint = dir / "run.checkpoints" / "checkpoint-12";
        std::filesystem::create_directories(checkpoint);
        for (const char *f : {"adapter_config.json", "adapter_model.safetensors", "optimizer.safetensors", "optimizer.pt",
                              "trainer_state.json"})
            std::ofstream(checkpoint / f) << f;
        const auto base = insertModelVersion(db, {0, "base", ModelKind::Base, "/models/base", "hb", std::nullopt, {}, ""});
        const auto destination = dir / "p.models" / "run-checkpoint-12";
        const auto published = publishModelFolder(db, checkpoint, destination, ModelKind::Adapter, "h12", base, {{"step", 12}});
        QCOMPARE(published.name, std::string("run-checkpoint-12"));
        QVERIFY(std::filesystem::exists(destination / "adapter_model.safetensors"));
        QVERIFY(!std::filesystem::exists(destination / "optimizer.pt") &&
                !std::filesystem::exists(destination / "optimizer.safetensors") && !std::filesystem::exists(destination / "trainer_state.json"));
        const auto v = findModelVersion(db, "run-checkpoint-12");
        QVERIFY(v && v->parentId == base && v->path == destination.string() && v->metadata["step"] == 12);
        // The same weights again: the same version.
        QCOMPARE(publishModelFolder(db, checkpoint, destination, ModelKind::Adapter, "h12", base, {}).id, published.id);
        // A source that cannot be copied leaves no folder and no version.
        const auto missing = dir / "p.models" / "gone";
        QVERIFY_THROWS_EXCEPTION(std::filesystem::filesystem_error,
                                 publishModelFolder(db, dir / "nope", missing, ModelKind::Adapter, "hx", base, {}));
        QVERIFY(!std::filesystem::exists(missing));
        QVERIFY(!findModelVersion(db, "gone"));
    }

    void versionFoldersFollowTheLineage()
    {
        auto &db = *m_db;
        const auto base = insertModelVersion(db, {0, "base", ModelKind::Base, "/models/base", "hb", std::nullopt, {}, ""});
        const auto sft = insertModelVersion(db, {0, "sft", ModelKind::Adapter, "/a/sft", "hs", base, {}, ""});
        // An aligned adapter continues the instruction-tuned one: it scores on the base, alone.
        const auto aligned = insertModelVersion(db, {0, "dpo", ModelKind::Adapter, "/a/dpo", "hd", sft, {}, ""});
        const auto merged = insertModelVersion(db, {0, "full", ModelKind::Merged, "/m/full", "hf", base, {}, ""});
        const auto onMerged = insertModelVersion(db, {0, "lora-on-full", ModelKind::Adapter, "/a/l", "hl", merged, {}, ""});
        const auto check = [&](std::int64_t id, const char *model, const char *adapter) {
            const auto f = versionFolders(db, id);
            QVERIFY(f);
            QCOMPARE(f->model, std::string(model));
            QCOMPARE(f->adapter, std::string(adapter));
        };
        check(base, "/models/base", "");
        check(sft, "/models/base", "/a/sft");
        check(aligned, "/models/base", "/a/dpo");
        check(merged, "/m/full", "");
        check(onMerged, "/m/full", "/a/l");
        QVERIFY(!versionFolders(db, 9999));
    }

    void trainingRuns()
    {
        auto &db = *m_db;
        const auto id = insertTrainingRun(db, "sft", {{"learning_rate", 1e-4}}, std::nullopt);
        QVERIFY(findTrainingRun(db, id)->status == TrainingStatus::Pending);
        setTrainingStatus(db, id, TrainingStatus::Running);
        auto row = findTrainingRun(db, id).value();
        QVERIFY(row.startedAt.has_value());
        QVERIFY(!row.finishedAt.has_value());
        insertTrainingMetric(db, id, {1, "loss", 0.7});
        insertTrainingMetric(db, id, {2, "loss", 0.5});
        insertTrainingMetric(db, id, {2, "loss", 0.45}); // resumed run logs step 2 again
        const auto metrics = trainingMetrics(db, id);
        QCOMPARE(metrics.size(), std::size_t(2));
        QCOMPARE(metrics[1].value, 0.45);
        setTrainingStatus(db, id, TrainingStatus::Failed, "out of memory");
        row = findTrainingRun(db, id).value();
        QVERIFY(row.status == TrainingStatus::Failed);
        QCOMPARE(row.error, std::string("out of memory"));
        QVERIFY(row.finishedAt.has_value());
        QCOMPARE(row.config["learning_rate"].get<double>(), 1e-4);
        QVERIFY_THROWS_EXCEPTION(StorageError, insertTrainingRun(db, "rlhf", {}, std::nullopt));
        const auto second = insertTrainingRun(db, "dpo", {}, std::nullopt);
        const auto all = listTrainingRuns(db);
        QCOMPARE(all.size(), std::size_t(2));
        QCOMPARE(all[0].id, second); // newest first
        QCOMPARE(all[1].error, std::string("out of memory"));
    }

    void auditLog()
    {
        auto &db = *m_db;
        appendAudit(db, "alice", "label", "pair_labels", 5, {{"outcome", "left"}});
        const auto entries = listAudit(db, 10);
        QVERIFY(!entries.empty());
        QCOMPARE(entries[0].actor, std::string("alice"));
        QCOMPARE(entries[0].entityId, std::optional<std::int64_t>(5));
        QCOMPARE(entries[0].details["outcome"].get<std::string>(), std::string("left"));
    }

    void cascadeOnCollectionDelete()
    {
        auto &db = *m_db;
        const auto ann = ensureAnnotator(db, "carol");
        insertGradedLabel(db, m_q1, m_text, 2, ann, GradedSource::Human);
        db.exec("DELETE FROM collections");
        QCOMPARE(db.queryInt("SELECT count(*) FROM candidates"), std::optional<std::int64_t>(0));
        QCOMPARE(db.queryInt("SELECT count(*) FROM graded_labels"), std::optional<std::int64_t>(0));
        QCOMPARE(db.integrityCheck(), std::string("ok"));
    }
};

QTEST_APPLESS_MAIN(TestRepositories)
#include "test_repositories.moc"
