// SPDX-License-Identifier: GPL-3.0-or-later
// Labels as undoable commands, without widgets: undo retracts, redo restores, a new label after an
// undo drops the redo part, a failed write leaves the history as it was.
#include "storage/dataset_import.h"
#include "storage/label_history.h"
#include "storage/repo/catalog.h"
#include "storage/repo/judgements.h"
#include "test_support.h"

#include "test_backend.h"

#include <QTemporaryDir>
#include <QTest>

using namespace unirank;
using namespace unirank::storage;

class TestLabelHistory : public QObject {
    Q_OBJECT
    QTemporaryDir m_tmp;
    std::filesystem::path m_file;
    std::unique_ptr<Project> m_project;
    std::int64_t m_collection = 0, m_query = 0;
    std::vector<std::int64_t> m_candidates;

    std::size_t preferences() { return currentPreferences(m_project->db(), m_collection).size(); }
private slots:
    void initTestCase()
    {
        m_file = test::newProjectLocation(std::filesystem::path(m_tmp.path().toStdString()), "h");
        m_project = std::move(*test::createProject(m_file));
        QVERIFY(importDataset(*m_project, test::smokeDataset(), {}).has_value());
        m_collection = listCollections(m_project->db()).front().id;
        m_query = listQueries(m_project->db(), m_collection).front().id;
        for (const auto &c : listCandidates(m_project->db(), m_collection))
            m_candidates.push_back(c.id);
    }

    void undoRedoPairs()
    {
        LabelWriter writer(m_file);
        LabelHistory history(writer);
        QVERIFY(!history.canUndo() && !history.canRedo());
        const auto before = preferences();
        QVERIFY(history.addPair({m_query, m_candidates[0], m_candidates[1], PairOutcome::Left, "ann", PairSource::Human, true, "uncertain"}));
        QVERIFY(history.addPair({m_query, m_candidates[2], m_candidates[3], PairOutcome::Right, "ann", PairSource::Human, false, "random"}));
        QCOMPARE(preferences(), before + 2);
        QCOMPARE(history.undoText(), std::string("pair label (right)"));
        const auto second = history.undoTarget();
        QVERIFY(second && second->table == LabelTable::Pair);
        QVERIFY(history.undo());
        QCOMPARE(preferences(), before + 1);
        QVERIFY(history.canRedo());
        QCOMPARE(history.redoText(), std::string("pair label (right)"));
        QCOMPARE(history.redoTarget()->labelId, second->labelId); // the label redo() restores
        QVERIFY(history.undoTarget()->labelId != second->labelId);
        QVERIFY(history.redo());
        QCOMPARE(preferences(), before + 2);
        QVERIFY(history.undo());
        QVERIFY(history.undo());
        QCOMPARE(preferences(), before);
        QVERIFY(!history.canUndo());
        QVERIFY(!history.undo()); // nothing left: an error, nothing changes
        // A new label after undo drops the redo part.
        QVERIFY(history.redo());
        QVERIFY(history.addPair({m_query, m_candidates[4], m_candidates[5], PairOutcome::Tie, "ann", PairSource::Human, false, ""}));
        QVERIFY(!history.canRedo());
        QCOMPARE(history.size(), std::size_t(2));
        QCOMPARE(preferences(), before + 2);
    }

    void gradedAndFailures()
    {
        LabelWriter writer(m_file);
        LabelHistory history(writer);
        const auto queries = listQueries(m_project->db(), m_collection);
        QVERIFY(history.addGraded({m_query, m_candidates[0], 3, "ann"}));
        QCOMPARE(history.undoText(), std::string("graded label 3"));
        const auto failed = history.addGraded({m_query, 999999, 2, "ann"}); // no such candidate
        QVERIFY(!failed);
        QCOMPARE(history.size(), std::size_t(1)); // the failed write is not on the stack
        QVERIFY(!history.addGraded({m_query, m_candidates[0], 7, "ann"})); // grade out of range
        QVERIFY(history.undo());
        QVERIFY(history.redo());
        QVERIFY(queries.size() > 0);
    }
};

QTEST_GUILESS_MAIN(TestLabelHistory)
#include "test_label_history.moc"
