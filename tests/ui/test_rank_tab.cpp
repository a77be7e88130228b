// SPDX-License-Identifier: GPL-3.0-or-later
// The Rank tab on the smoke set with the tiny model, offscreen: a version without a score run is
// scored on demand and shows the scorer's own numbers; switching queries cancels the older request
// (latest wins) and only the newest list is shown; keys 0-3 write graded labels (undoable); a drop
// records a preference; the rank change is against the comparison version; "score all" stores a run
// that later views read back; the search filters the query list. Item models pass the tester.
#include "core/scoring/scorer.h" // libtorch before Qt's keyword macros

#include "storage/browse.h"
#include "storage/dataset_import.h"
#include "storage/repo/catalog.h"
#include "storage/repo/judgements.h"
#include "test_support.h"
#include "ui/project_context.h"
#include "ui/query_list_model.h"
#include "ui/rank_tab.h"
#include "ui/ranked_list_model.h"
#include "ui/version_bar.h"

#include <QAbstractItemModelTester>
#include <QComboBox>
#include <QProgressBar>
#include <QPushButton>
#include <QLineEdit>
#include <QMimeData>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QStandardPaths>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>

using namespace unirank;

class TestRankTab : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QString m_file;
    std::int64_t m_version = 0;
    std::filesystem::path m_model;

private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        const auto file = std::filesystem::path(m_dir.path().toStdString()) / "rank.unirank";
        auto project = std::move(storage::Project::create(file).value());
        QVERIFY(storage::importDataset(*project, test::smokeDataset(), {}));
        m_model = test::sourceDir() / "resources/models/tiny-random";
        m_version = storage::ensureModelVersion(project->db(), "tiny-random", storage::ModelKind::Base, m_model.string(),
                                                ui::ScoringService::folderHash(m_model));
        m_file = QString::fromStdString(file.string());
    }

    void scoresOnDemandAndLabels()
    {
        ui::ProjectContext context;
        ui::RankTab tab(context);
        tab.resize(1200, 700);
        tab.show();
        QAbstractItemModelTester queryTester(tab.queryModel(), QAbstractItemModelTester::FailureReportingMode::QtTest);
        QAbstractItemModelTester rankedTester(tab.rankedModel(), QAbstractItemModelTester::FailureReportingMode::QtTest);
        QSignalSpy shown(&tab, &ui::RankTab::rankingShown);
        QSignalSpy cancelled(&context.scoring(), &ui::ScoringService::cancelled);
        QSignalSpy loaded(&context.scoring(), &ui::ScoringService::loaded);
        QVERIFY(context.setAnnotator(QStringLiteral("alice")));
        QVERIFY(context.open(m_file));
        context.setActiveVersion(m_version);
        QVERIFY(loaded.count() > 0 || loaded.wait(60000));
        // The first query is selected and, with no score run stored, scored on demand.
        QTRY_VERIFY_WITH_TIMEOUT(shown.count() > 0, 60000);
        const auto snapshot = context.snapshot();
        const auto &first = snapshot->lists.front();
        QCOMPARE(shown.last().at(0).value<std::int64_t>(), first.queryId);
        QCOMPARE(tab.rankedModel()->rowCount(), int(first.items.size()));
        QCOMPARE(tab.queryModel()->rowCount(), 20);

        // The numbers are the scorer's: compare the top row with a direct single-pair score.
        auto model = scoring::loadScoringModel(m_model).value();
        scoring::Scorer scorer(model, {});
        const auto *top = tab.rankedModel()->rowAt(0);
        const auto *item = snapshot->item(first.queryId, top->candidateId);
        const auto direct = scorer.scoreSinglePair({first.queryExtId, first.queryText, {}, first.queryImage, first.queryImageHash},
                                                   {item->extId, item->text, item->image, item->imageHash});
        QVERIFY(direct.ok());
        QVERIFY(std::abs(top->score - direct.margin) < 1e-4);
        QVERIFY(std::abs(*top->probability - direct.probability) < 1e-5);
        for (int r = 1; r < tab.rankedModel()->rowCount(); ++r)
            QVERIFY(tab.rankedModel()->rowAt(r - 1)->score >= tab.rankedModel()->rowAt(r)->score);
        // Rank change against the first stage (the default comparison).
        const auto firstStage = storage::firstStageQuery(context.db(), first.queryId);
        int firstStageRank = 0;
        for (std::size_t i = 0; i < firstStage.size(); ++i)
            if (firstStage[i].candidateId == top->candidateId)
                firstStageRank = int(i) + 1;
        QCOMPARE(top->rankChange, std::optional(firstStageRank - 1));

        // Two selections in a row: only the newest list appears. The older query's read is dropped
        // (latest wins); had it reached the scorer, its request is cancelled.
        shown.clear();
        QSignalSpy started(&tab, &ui::RankTab::scoringStarted);
        const auto &second = snapshot->lists[1], &third = snapshot->lists[2];
        tab.selectQuery(second.queryId);
        tab.selectQuery(third.queryId);
        QTRY_VERIFY_WITH_TIMEOUT(shown.count() > 0, 60000);
        bool secondStarted = false;
        for (const auto &s : started)
            secondStarted = secondStarted || s.at(0).value<std::int64_t>() == second.queryId;
        QVERIFY(!secondStarted || cancelled.count() >= 1);
        QTest::qWait(300); // a late result for the older query must not replace the list
        for (const auto &s : shown)
            QCOMPARE(s.at(0).value<std::int64_t>(), third.queryId);
        QCOMPARE(tab.currentQuery(), third.queryId);
        QCOMPARE(tab.rankedModel()->rowCount(), int(third.items.size()));

        // Key 2 on the focused row: a graded label, shown in the row, undoable.
        tab.rankedView()->setFocus();
        tab.rankedView()->setCurrentIndex(tab.rankedModel()->index(3, 0));
        const auto candidate = tab.rankedModel()->rowAt(3)->candidateId;
        const auto before = storage::currentGrades(context.db(), third.queryId);
        QTest::keyClick(tab.rankedView(), Qt::Key_2);
        QTRY_COMPARE_WITH_TIMEOUT(context.pendingLabels(), 0, 10000);
        QCOMPARE(storage::currentGrades(context.db(), third.queryId).at(candidate), 2);
        QTRY_COMPARE(tab.rankedModel()->rowAt(3)->grade, 2);
        QVERIFY(tab.statusText().startsWith("Saved: grade 2"));
        QVERIFY(context.undo());
        QTRY_COMPARE_WITH_TIMEOUT(context.pendingLabels(), 0, 10000);
        const auto restored = storage::currentGrades(context.db(), third.queryId);
        QCOMPARE(restored.count(candidate), before.count(candidate));
        QTRY_COMPARE(tab.rankedModel()->rowAt(3)->grade, before.count(candidate) ? before.at(candidate) : -1);

        // Dropping row 4 onto row 0: "row 4 is better than row 0".
        const auto better = tab.rankedModel()->rowAt(4)->candidateId, worse = tab.rankedModel()->rowAt(0)->candidateId;
        std::unique_ptr<QMimeData> mime(tab.rankedModel()->mimeData({tab.rankedModel()->index(4, 0)}));
        tab.rankedModel()->dropMimeData(mime.get(), Qt::CopyAction, -1, -1, tab.rankedModel()->index(0, 0));
        QTRY_COMPARE_WITH_TIMEOUT(context.pendingLabels(), 0, 10000);
        const auto prefs = storage::currentPreferences(context.db(), context.collectionId());
        QCOMPARE(prefs.size(), std::size_t(1));
        const auto label = storage::findPairLabel(context.db(), prefs[0].id);
        QCOMPARE(label->input.leftId, better);
        QCOMPARE(label->input.rightId, worse);
        QVERIFY(label->input.outcome == PairOutcome::Left);
        QCOMPARE(label->input.reason, std::string("rank-tab drag"));

        // The search filters the list.
        tab.searchField()->setText(QString::fromStdString(third.queryText));
        QVERIFY(tab.queryView()->model()->rowCount() >= 1);
        QVERIFY(tab.queryView()->model()->rowCount() < 20);
        tab.searchField()->clear();
        QCOMPARE(tab.queryView()->model()->rowCount(), 20);
    }

    void scoreAllStoresARun()
    {
        ui::ProjectContext context;
        ui::RankTab tab(context);
        QSignalSpy loaded(&context.scoring(), &ui::ScoringService::loaded);
        QSignalSpy finished(&tab, &ui::RankTab::scoreAllFinished);
        QVERIFY(context.open(m_file));
        context.setActiveVersion(m_version);
        QVERIFY(loaded.count() > 0 || loaded.wait(60000));
        QTRY_VERIFY_WITH_TIMEOUT(context.snapshot() != nullptr, 30000);
        QVERIFY(!storage::latestScoreRun(context.db(), m_version, context.collectionId()));
        tab.scoreAll();
        QVERIFY(finished.wait(300000));
        QCOMPARE(finished.first().at(0).toBool(), true);
        const auto run = storage::latestScoreRun(context.db(), m_version, context.collectionId());
        QVERIFY(run.has_value());
        // A fresh tab reads the stored run: same order as the scored list, no model needed.
        context.setActiveVersion(std::nullopt);
        ui::ProjectContext again;
        ui::RankTab reader(again);
        QSignalSpy shown(&reader, &ui::RankTab::rankingShown);
        QVERIFY(again.open(m_file));
        again.setActiveVersion(m_version);
        again.scoring().unload(); // the stored run is enough
        QTRY_VERIFY_WITH_TIMEOUT(shown.count() > 0, 30000);
        const auto query = reader.currentQuery();
        const auto stored = storage::scoreRunQuery(again.db(), *run, query);
        QCOMPARE(reader.rankedModel()->rowCount(), int(stored.size()));
        for (std::size_t i = 0; i < stored.size(); ++i)
            QCOMPARE(reader.rankedModel()->rowAt(int(i))->candidateId, stored[i].candidateId);
        // The query list shows nDCG@10 of the stored run.
        QTRY_VERIFY_WITH_TIMEOUT(reader.queryModel()->rowAt(0)->metric.has_value(), 30000);
    }

    void versionBarFollowsTheContext()
    {
        // The bar lists "first stage" and the project's versions, shows the context's active and
        // compared versions, sets them when chosen, and enables "Score all" only with an active
        // version; closing the project leaves only "first stage".
        ui::ProjectContext context;
        ui::VersionBar bar(context);
        QCOMPARE(bar.activeCombo()->count(), 1);
        QVERIFY(!bar.scoreAllButton()->isEnabled());
        QVERIFY(context.open(m_file));
        QCOMPARE(bar.activeCombo()->count(), 2);
        QCOMPARE(bar.compareCombo()->count(), 2);
        const int versionRow = bar.activeCombo()->findData(qlonglong(m_version));
        QVERIFY(versionRow > 0);
        context.setActiveVersion(m_version);
        QCOMPARE(bar.activeCombo()->currentIndex(), versionRow);
        QVERIFY(bar.scoreAllButton()->isEnabled());
        // Chosen in the bar: first stage for the active version, the version for the comparison.
        bar.activeCombo()->setCurrentIndex(0);
        emit bar.activeCombo()->activated(0);
        QVERIFY(!context.activeVersion().has_value());
        QVERIFY(!bar.scoreAllButton()->isEnabled());
        bar.compareCombo()->setCurrentIndex(versionRow);
        emit bar.compareCombo()->activated(versionRow);
        QCOMPARE(context.compareVersion(), std::optional<std::int64_t>(m_version));
        QSignalSpy clicked(&bar, &ui::VersionBar::scoreAllClicked);
        context.setActiveVersion(m_version);
        bar.scoreAllButton()->click();
        QCOMPARE(clicked.count(), 1);
        bar.show();
        auto *progress = bar.findChild<QProgressBar *>();
        QVERIFY(progress && !progress->isVisible());
        bar.showProgress(3, 10);
        QVERIFY(progress->isVisible());
        QCOMPARE(progress->value(), 3);
        bar.hideProgress();
        QVERIFY(!progress->isVisible());
        context.close();
        QCOMPARE(bar.activeCombo()->count(), 1);
        QVERIFY(!bar.scoreAllButton()->isEnabled());
    }

    void textIsTheWidestColumn()
    {
        // The width a 1280-pixel window leaves the tab: the candidate's and the query's text take most
        // of their views and wrap; the numbers and labels beside them take only what they need.
        ui::ProjectContext context;
        ui::RankTab tab(context);
        tab.resize(1260, 760);
        tab.show();
        QSignalSpy shown(&tab, &ui::RankTab::rankingShown);
        QVERIFY(context.open(m_file));
        QTRY_VERIFY_WITH_TIMEOUT(shown.count() > 0, 30000);
        QVERIFY(tab.rankedModel()->rowCount() > 0);
        QCoreApplication::processEvents();
        const auto widest = [](QTableView *view, int textColumn) {
            const int text = view->columnWidth(textColumn);
            int others = 0;
            for (int c = 0; c < view->model()->columnCount(); ++c)
                if (c != textColumn) {
                    QVERIFY2(view->columnWidth(c) < text, qPrintable(QStringLiteral("column %1 is %2 px, the text %3 px")
                                                                         .arg(c).arg(view->columnWidth(c)).arg(text)));
                    others += view->columnWidth(c);
                }
            QVERIFY2(text >= others, qPrintable(QStringLiteral("text %1 px, the other columns %2 px").arg(text).arg(others)));
            QVERIFY2(text >= 200, qPrintable(QStringLiteral("text %1 px").arg(text)));
            QVERIFY(view->wordWrap());
        };
        widest(tab.rankedView(), ui::RankedListModel::CandidateColumn);
        widest(tab.queryView(), ui::QueryListModel::TextColumn);
        // What the query list does not show by default is in each row's tooltip.
        const auto *first = tab.queryModel()->rowAt(0);
        const auto tip = tab.queryModel()->data(tab.queryModel()->index(0, ui::QueryListModel::TextColumn), Qt::ToolTipRole).toString();
        QVERIFY2(tip.contains(first->extId) && tip.contains(QStringLiteral("%1 candidates").arg(first->candidates)), qPrintable(tip));
        // Three wrapped lines of a candidate fit its row.
        QVERIFY(tab.rankedView()->rowHeight(0) >= 3 * tab.rankedView()->fontMetrics().lineSpacing());
    }
};

QTEST_MAIN(TestRankTab)
#include "test_rank_tab.moc"
