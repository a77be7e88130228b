// SPDX-License-Identifier: GPL-3.0-or-later
// The Label tab driven by key clicks in the main window (offscreen): every key writes the expected
// pair_labels row (shown sides, outcome, annotator, reason), Ctrl+Z retracts the newest and shows its
// pair again, Ctrl+Shift+Z restores it, Space writes nothing, and the queue never serves a pair twice
// until it runs dry.
#include "storage/dataset_import.h"
#include "storage/label_writer.h"
#include "storage/repo/judgements.h"
#include "test_support.h"
#include "ui/candidate_view.h"
#include "ui/label_tab.h"
#include "ui/main_window.h"
#include "ui/project_context.h"

#include <QApplication>
#include <QElapsedTimer>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>

#include <QElapsedTimer>

#include <set>

using namespace unirank;

namespace {

struct Row {
    std::int64_t left = 0, right = 0;
    std::string outcome, annotator, reason;
    bool swapped = false, retracted = false;
};

std::vector<Row> pairRows(storage::Database &db)
{
    auto s = db.prepare(R"sql(
        SELECT p.left_id, p.right_id, p.outcome, coalesce(a.name, ''), p.reason, p.shown_swapped,
               p.retracted_at IS NOT NULL
        FROM pair_labels p LEFT JOIN annotators a ON a.id = p.annotator_id ORDER BY p.id)sql");
    return s.collect([](const storage::Statement &r) {
        return Row{r.columnInt(0), r.columnInt(1), r.columnText(2), r.columnText(3), r.columnText(4), r.columnInt(5) != 0,
                   r.columnInt(6) != 0};
    });
}

} // namespace

class TestLabelTab : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;

    QString makeProject(const std::string &name, bool tiny)
    {
        const auto file = std::filesystem::path(m_dir.path().toStdString()) / name;
        auto project = std::move(storage::Project::create(file).value());
        auto data = test::smokeDataset();
        if (tiny) {
            data = std::filesystem::path(m_dir.path().toStdString()) / (name + "-data");
            test::makeTinyDataset(data);
        }
        const auto imported = storage::importDataset(*project, data, {});
        if (!imported)
            qFatal("import failed: %s", imported.error().message.c_str());
        return QString::fromStdString(file.string());
    }

    /// Opens the project in a shown, active main window with the Label tab current and the queue built.
    bool openInWindow(ui::MainWindow &window, const QString &file)
    {
        window.context().setAnnotator(QStringLiteral("alice"));
        QSignalSpy ready(window.labelTab(), &ui::LabelTab::queueReady);
        if (!window.openProject(file))
            return false;
        window.tabs()->setCurrentWidget(window.labelTab());
        window.show();
        window.activateWindow();
        if (!QTest::qWaitForWindowActive(&window))
            return false;
        window.labelTab()->setFocus();
        return ready.count() > 0 || ready.wait(20000);
    }

private slots:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }

    void keysWriteRowsAndUndoRedo()
    {
        const auto file = makeProject("keys.unirank", false);
        ui::MainWindow window;
        QVERIFY(openInWindow(window, file));
        auto *tab = window.labelTab();
        QVERIFY(tab->currentPair().has_value());

        struct Expect {
            std::int64_t left, right;
            std::string outcome, reason;
            bool swapped;
        };
        std::vector<Expect> expected;
        const auto press = [&](Qt::Key key, const char *outcome) {
            const auto shown = *tab->currentPair();
            // What the screen shows is what gets stored: the candidate ids of the two panes.
            QCOMPARE(tab->leftView()->shownId().isEmpty(), false);
            QTest::keyClick(&window, key);
            expected.push_back({std::stoll(shown.left), std::stoll(shown.right), outcome,
                                labeling::toString(shown.reason), shown.shownSwapped});
        };
        press(Qt::Key_Left, "left");
        press(Qt::Key_1, "left");
        press(Qt::Key_Right, "right");
        press(Qt::Key_2, "right");
        press(Qt::Key_T, "tie");
        press(Qt::Key_0, "both-irrelevant");
        const auto beforeSkip = *tab->currentPair();
        QTest::keyClick(&window, Qt::Key_Space); // skip: nothing written, another pair shown
        QVERIFY(!(tab->currentPair()->left == beforeSkip.left && tab->currentPair()->right == beforeSkip.right &&
                  tab->currentPair()->queryId == beforeSkip.queryId));

        // Each key queued its label and showed the next pair at once; the acks follow.
        auto &context = window.context();
        QTRY_COMPARE_WITH_TIMEOUT(context.pendingLabels(), 0, 10000);
        auto &db = context.db();
        auto rows = pairRows(db);
        QCOMPARE(rows.size(), expected.size());
        for (std::size_t i = 0; i < rows.size(); ++i) {
            QCOMPARE(rows[i].left, expected[i].left);
            QCOMPARE(rows[i].right, expected[i].right);
            QCOMPARE(rows[i].outcome, expected[i].outcome);
            QCOMPARE(rows[i].reason, expected[i].reason);
            QCOMPARE(rows[i].swapped, expected[i].swapped);
            QCOMPARE(rows[i].annotator, std::string("alice"));
            QVERIFY(!rows[i].retracted);
        }
        QCOMPARE(tab->sessionCount(), 6);

        // Ctrl+Z retracts the newest label and shows its pair again; Ctrl+Shift+Z restores it.
        QVERIFY(window.undoAction()->isEnabled());
        QVERIFY(window.undoAction()->text().contains("both-irrelevant"));
        QTest::keyClick(&window, Qt::Key_Z, Qt::ControlModifier);
        QTRY_COMPARE_WITH_TIMEOUT(context.pendingLabels(), 0, 10000);
        rows = pairRows(db);
        QVERIFY(rows.back().retracted);
        QVERIFY(!rows[4].retracted);
        QCOMPARE(std::stoll(tab->currentPair()->left), expected.back().left);
        QCOMPARE(std::stoll(tab->currentPair()->right), expected.back().right);
        QCOMPARE(tab->sessionCount(), 5);
        QTest::keyClick(&window, Qt::Key_Z, Qt::ControlModifier);
        QTRY_COMPARE_WITH_TIMEOUT(context.pendingLabels(), 0, 10000);
        QVERIFY(pairRows(db)[4].retracted);
        QTest::keyClick(&window, Qt::Key_Z, Qt::ControlModifier | Qt::ShiftModifier);
        QTRY_COMPARE_WITH_TIMEOUT(context.pendingLabels(), 0, 10000);
        QTest::keyClick(&window, Qt::Key_Z, Qt::ControlModifier | Qt::ShiftModifier);
        QTRY_COMPARE_WITH_TIMEOUT(context.pendingLabels(), 0, 10000);
        rows = pairRows(db);
        QCOMPARE(rows.size(), expected.size()); // undo/redo never adds or deletes rows
        for (const auto &r : rows)
            QVERIFY(!r.retracted);
        QCOMPARE(tab->sessionCount(), 6);
        QCOMPARE(currentPreferences(db, storage::listCollections(db).front().id).size(), std::size_t(6));
        QVERIFY(!window.redoAction()->isEnabled());

        // Relabelling after an undo: the undone pair comes back and the new key replaces the label.
        QTest::keyClick(&window, Qt::Key_Z, Qt::ControlModifier);
        QTRY_COMPARE_WITH_TIMEOUT(context.pendingLabels(), 0, 10000);
        const auto again = *tab->currentPair();
        QTest::keyClick(&window, Qt::Key_T);
        QTRY_COMPARE_WITH_TIMEOUT(context.pendingLabels(), 0, 10000);
        rows = pairRows(db);
        QCOMPARE(rows.size(), expected.size() + 1);
        QCOMPARE(rows.back().left, std::stoll(again.left));
        QCOMPARE(rows.back().outcome, std::string("tie"));
        QVERIFY(rows[expected.size() - 1].retracted);
    }

    void queueNeverRepeatsUntilEmpty()
    {
        const auto file = makeProject("tiny.unirank", true);
        ui::MainWindow window;
        QVERIFY(openInWindow(window, file));
        auto *tab = window.labelTab();
        QSignalSpy exhausted(tab, &ui::LabelTab::queueExhausted);
        std::set<std::tuple<std::string, std::string, std::string>> seen;
        int labelled = 0;
        while (tab->currentPair()) {
            const auto p = *tab->currentPair();
            const auto key = std::make_tuple(p.queryId, std::min(p.left, p.right), std::max(p.left, p.right));
            QVERIFY2(seen.insert(key).second, "a pair was served twice");
            QTest::keyClick(&window, labelled % 2 ? Qt::Key_Left : Qt::Key_Right);
            ++labelled;
            QVERIFY(labelled <= 4);
        }
        // The tiny set: 3 candidates for q1 (3 pairs) and 2 for q2 (1 pair).
        QCOMPARE(labelled, 4);
        QCOMPARE(exhausted.count(), 1);
        QTRY_COMPARE_WITH_TIMEOUT(window.context().pendingLabels(), 0, 10000);
        QCOMPARE(pairRows(window.context().db()).size(), std::size_t(4));
        QVERIFY(tab->statusText().contains("empty"));
        QTest::keyClick(&window, Qt::Key_Left); // nothing shown: nothing written
        QCOMPARE(window.context().pendingLabels(), 0);
        QCOMPARE(pairRows(window.context().db()).size(), std::size_t(4));

        // Another annotator starts afresh, and a reopened session remembers alice's pairs.
        window.context().close();
        ui::MainWindow second;
        QVERIFY(openInWindow(second, file));
        QVERIFY(!second.labelTab()->currentPair().has_value());
        QVERIFY(second.context().setAnnotator(QStringLiteral("bob")));
        QVERIFY(second.labelTab()->currentPair().has_value());
    }

    void busyProjectSavesInTheBackground()
    {
        // Another process holds the project's write lock. A key press never waits for it: the next
        // pair comes at once, the label is "Saving ..." until the lock is free, then "Saved".
        const auto file = makeProject("busy.unirank", true);
        auto other = storage::Database::open(file.toStdString(), storage::Database::Mode::ReadWrite);
        {
            ui::MainWindow window;
            window.context().setLabelBusyPolicy(100, 300); // up to 30 s of retries
            QVERIFY(openInWindow(window, file));
            auto *tab = window.labelTab();
            const auto shown = *tab->currentPair();
            other.exec("BEGIN IMMEDIATE");
            QElapsedTimer timer;
            timer.start();
            QTest::keyClick(&window, Qt::Key_Left);
            QVERIFY2(timer.elapsed() < 50, qPrintable(QString::number(timer.elapsed())));
            QVERIFY(tab->currentPair().has_value());
            QVERIFY(!(tab->currentPair()->left == shown.left && tab->currentPair()->right == shown.right &&
                      tab->currentPair()->queryId == shown.queryId));
            QTRY_VERIFY2_WITH_TIMEOUT(tab->statusText().contains("in use by another process"), qPrintable(tab->statusText()),
                                      10000);
            QCOMPARE(window.context().pendingLabels(), 1);
            other.exec("COMMIT");
            QTRY_COMPARE_WITH_TIMEOUT(window.context().pendingLabels(), 0, 10000);
            QVERIFY2(tab->statusText().startsWith("Saved"), qPrintable(tab->statusText()));
            QCOMPARE(tab->sessionCount(), 1);
            const auto rows = pairRows(window.context().db());
            QCOMPARE(rows.size(), std::size_t(1));
            QCOMPARE(rows[0].left, std::stoll(shown.left));
        }
        // Held for longer than every attempt: "Not saved", the pair comes back, and the key works again.
        ui::MainWindow window;
        window.context().setLabelBusyPolicy(100, 3);
        QVERIFY(openInWindow(window, file));
        auto *tab = window.labelTab();
        const auto shown = *tab->currentPair();
        other.exec("BEGIN IMMEDIATE");
        QTest::keyClick(&window, Qt::Key_Left);
        QTRY_COMPARE_WITH_TIMEOUT(window.context().pendingLabels(), 0, 10000);
        QVERIFY2(tab->statusText().contains("Not saved") && tab->statusText().contains("in use by another process"),
                 qPrintable(tab->statusText()));
        QCOMPARE(tab->currentPair()->left, shown.left); // on screen again: the key can be pressed again
        QCOMPARE(tab->currentPair()->right, shown.right);
        QCOMPARE(tab->sessionCount(), 0);
        other.exec("COMMIT");
        QTest::keyClick(&window, Qt::Key_Left);
        QTRY_COMPARE_WITH_TIMEOUT(window.context().pendingLabels(), 0, 10000);
        QCOMPARE(tab->sessionCount(), 1);
        QCOMPARE(pairRows(window.context().db()).size(), std::size_t(2));
    }

    // As a newcomer meets it: the name is given after the project opened, and the tab is opened with the
    // mouse from another one. The status stops asking for a name, and the pair has the keyboard focus
    // without a click into it.
    void focusAndStatusWhenOpened()
    {
        const auto file = makeProject("newcomer.unirank", true);
        QSettings().remove(QStringLiteral("annotator")); // a first start: no name remembered yet
        ui::MainWindow window;
        QSignalSpy ready(window.labelTab(), &ui::LabelTab::queueReady);
        QVERIFY(window.openProject(file));
        QVERIFY(ready.count() > 0 || ready.wait(20000));
        auto *tab = window.labelTab();
        QVERIFY2(tab->statusText().contains("annotator name"), qPrintable(tab->statusText()));
        window.tabs()->setCurrentIndex(0);
        window.show();
        window.activateWindow();
        QVERIFY(QTest::qWaitForWindowActive(&window));
        window.context().setAnnotator(QStringLiteral("bob"));
        QVERIFY(tab->currentPair().has_value());
        QVERIFY2(!tab->statusText().contains("annotator name"), qPrintable(tab->statusText()));
        QVERIFY(window.tabs()->currentWidget() != tab);
        window.tabs()->setCurrentWidget(tab); // as a click on the tab bar does
        QTRY_VERIFY(tab->hasFocus());
        const auto before = tab->sessionCount();
        QTest::keyClick(QApplication::focusWidget(), Qt::Key_1); // "left is better", straight away
        QTRY_COMPARE(tab->sessionCount(), before + 1);
    }

    void othersLabelsArriveLive()
    {
        // Another analyst (another process: here another connection) labels a pair: within seconds the
        // open Label tab counts it and no longer serves it as a fresh pair.
        const auto file = makeProject("team.unirank", false);
        ui::MainWindow window;
        QVERIFY(openInWindow(window, file));
        auto *tab = window.labelTab();
        QSignalSpy refreshed(tab, &ui::LabelTab::judgedRefreshed);
        {
            auto db = storage::Database::open(file.toStdString(), storage::Database::Mode::ReadWrite);
            const auto q = db.queryInt("SELECT min(id) FROM queries").value();
            const auto a = db.queryInt("SELECT min(candidate_id) FROM candidate_lists WHERE query_id = " + std::to_string(q)).value();
            const auto b = db.queryInt("SELECT max(candidate_id) FROM candidate_lists WHERE query_id = " + std::to_string(q)).value();
            storage::LabelWriter other(file.toStdString());
            QVERIFY(other.addPair({q, a, b, PairOutcome::Left, "bob", PairSource::Human, false, "random"}).get());
        }
        QVERIFY(refreshed.wait(10000));
        QCOMPARE(refreshed.last().at(0).toInt(), 1);
        QVERIFY2(tab->progressText().contains("by the team: 1"), qPrintable(tab->progressText()));
    }

    void needsAnAnnotator()
    {
        const auto file = makeProject("anon.unirank", true);
        ui::ProjectContext context;
        QVERIFY(!context.setAnnotator(QStringLiteral("two words")));
        QVERIFY(!context.setAnnotator(QString()));
        QVERIFY(context.open(file));
        const auto collection = context.collectionId();
        QVERIFY(collection > 0);
    }
};

QTEST_MAIN(TestLabelTab)
#include "test_label_tab.moc"
