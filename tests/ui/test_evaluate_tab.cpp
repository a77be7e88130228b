// SPDX-License-Identifier: GPL-3.0-or-later
// The Evaluate tab, offscreen: the versions x metrics table equals storage::evaluateProject, a worse
// version carries a significance marker against the baseline (and the marker flips when the baseline
// changes), the charts have one series per thing shown, the per-query drill-down opens the query in
// the Rank tab, and the exports are complete files. The table model passes QAbstractItemModelTester.
#include "storage/dataset_import.h"
#include "storage/label_writer.h"
#include "storage/project_eval.h"
#include "storage/repo/catalog.h"
#include "storage/score_store.h"
#include "test_support.h"
#include "ui/evaluate_tab.h"
#include "ui/evaluation_model.h"
#include "ui/main_window.h"
#include "ui/project_context.h"
#include "ui/rank_tab.h"

#include <QAbstractItemModelTester>
#include <QComboBox>
#include <QLineEdit>
#include <QSignalSpy>
#include <QStandardItemModel>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTableView>
#include <QTemporaryDir>
#include <QTest>
#include <QtCharts/QBarSeries>
#include <QtCharts/QBarSet>
#include <QtCharts/QChartView>

#include <fstream>

using namespace unirank;

class TestEvaluateTab : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QString m_file;

private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        const auto file = std::filesystem::path(m_dir.path().toStdString()) / "eval.unirank";
        auto project = std::move(storage::Project::create(file).value());
        QVERIFY(storage::importDataset(*project, test::smokeDataset(), {}));
        const auto collection = storage::listCollections(project->db()).front().id;
        std::vector<storage::ScoredItem> items; // a "model" that reverses the first stage
        for (const auto &list : storage::firstStageLists(*project, collection))
            for (std::size_t i = 0; i < list.items.size(); ++i)
                items.push_back({list.queryId, list.items[i].candidateId, static_cast<double>(i) / 4.0 - 3.0});
        const auto version = storage::ensureModelVersion(project->db(), "reverse", storage::ModelKind::Base, "/nowhere", "h-r");
        storage::storeScoreRun(project->db(), version, collection, {}, items);
        m_file = QString::fromStdString(file.string());
    }

    void tableChartsAndExports()
    {
        ui::ProjectContext context;
        ui::EvaluateTab tab(context);
        tab.show();
        QAbstractItemModelTester tester(tab.model(), QAbstractItemModelTester::FailureReportingMode::QtTest);
        QVERIFY(context.open(m_file));
        QCOMPARE(tab.baselineCombo()->count(), 2); // the first stage and the one version with a run
        tab.metricsField()->setText(QStringLiteral("map, success_1"));
        QSignalSpy evaluated(&tab, &ui::EvaluateTab::evaluated);
        tab.evaluate();
        QVERIFY(evaluated.wait(60000));
        auto *model = tab.model();
        QCOMPARE(model->rowCount(), 2);
        QCOMPARE(model->columnCount(), 2);
        QCOMPARE(model->headerData(1, Qt::Horizontal).toString(), QStringLiteral("success_1"));
        QVERIFY(model->headerData(0, Qt::Vertical).toString().contains("(baseline)"));

        // The same numbers as the storage API.
        storage::ProjectEvalOptions o;
        o.report.eval.metrics = {"map", "success_1"};
        o.store = false;
        auto project = std::move(storage::Project::open(m_file.toStdString()).value());
        const auto report = storage::evaluateProject(*project, o).value();
        QCOMPARE(model->data(model->index(1, 0), ui::EvaluationModel::ValueRole).toDouble(),
                 report.json.at("runs")[1].at("mean").at("map").get<double>());
        // The reversed list is much worse: a downward, significant marker and a tooltip with the test.
        const auto cell = model->data(model->index(1, 0)).toString();
        QVERIFY2(cell.contains(QStringLiteral("▼")) && cell.contains('*'), qPrintable(cell));
        QVERIFY(model->data(model->index(1, 0), Qt::ToolTipRole).toString().contains("Holm"));
        QVERIFY(!model->data(model->index(0, 0)).toString().contains('*'));
        // Results were stored with the score run.
        QCOMPARE(storage::listEvaluations(project->db(), 1).size(), std::size_t(1));

        // Charts.
        auto *across = qobject_cast<QBarSeries *>(tab.metricChart()->chart()->series().value(0));
        QVERIFY(across);
        QCOMPARE(across->barSets().value(0)->count(), 2);
        QCOMPARE(across->barSets().value(0)->at(1), model->data(model->index(1, 0), ui::EvaluationModel::ValueRole).toDouble());
        QCOMPARE(qobject_cast<QBarSeries *>(tab.modalityChart()->chart()->series().value(0))->barSets().size(), 2);
        QCOMPARE(tab.reliabilityChart()->chart()->series().size(), 2); // the diagonal and the model version
        tab.chartMetricCombo()->setCurrentText(QStringLiteral("success_1"));
        QVERIFY(tab.metricChart()->chart()->title().contains("success_1"));

        // Per query: one row per query, one column per run.
        QCOMPARE(tab.perQueryModel()->rowCount(), 20);
        QCOMPARE(tab.perQueryModel()->columnCount(), 3);

        // Exports.
        const auto csv = m_dir.filePath(QStringLiteral("eval.csv")), json = m_dir.filePath(QStringLiteral("eval.json"));
        QVERIFY(tab.exportCsv(csv));
        QVERIFY(tab.exportJson(json));
        const auto text = test::readText(csv.toStdString());
        QCOMPARE(std::count(text.begin(), text.end(), '\n'), 1 + 2 * 2);
        QVERIFY(text.rfind("run,metric,mean,mean_difference,p,p_holm,ci95_low,ci95_high\n", 0) == 0);
        std::ifstream in(json.toStdString());
        const auto exported = nlohmann::json::parse(in);
        QCOMPARE(exported.at("runs").size(), std::size_t(2));
        QVERIFY(!tab.exportCsv(m_dir.filePath(QStringLiteral("no/such/dir/eval.csv"))));

        // Another baseline: the comparison turns around.
        tab.baselineCombo()->setCurrentIndex(tab.baselineCombo()->findData(QStringLiteral("reverse")));
        tab.evaluate();
        QVERIFY(evaluated.wait(60000));
        QVERIFY(model->headerData(0, Qt::Vertical).toString().startsWith("reverse"));
        QVERIFY(model->data(model->index(1, 0)).toString().contains(QStringLiteral("▲")));
    }

    void drillDownOpensTheQuery()
    {
        ui::MainWindow window;
        window.context().setAnnotator(QStringLiteral("alice"));
        QSignalSpy ready(&window.context(), &ui::ProjectContext::snapshotReady);
        QVERIFY(window.openProject(m_file));
        QVERIFY(ready.count() > 0 || ready.wait(30000));
        auto *tab = window.evaluateTab();
        QSignalSpy evaluated(tab, &ui::EvaluateTab::evaluated);
        tab->evaluate();
        QVERIFY(evaluated.wait(60000));
        const int row = 5;
        const auto queryExt = tab->perQueryModel()->index(row, 0).data().toString();
        emit tab->perQueryView()->doubleClicked(tab->perQueryModel()->index(row, 1));
        QCOMPARE(window.tabs()->currentWidget(), static_cast<QWidget *>(window.rankTab()));
        const auto *list = window.context().snapshot()->list(window.rankTab()->currentQuery());
        QVERIFY(list);
        QCOMPARE(QString::fromStdString(list->queryExtId), queryExt);
    }

    void teamAgreementFollowsLabels()
    {
        ui::MainWindow window;
        window.context().setAnnotator(QStringLiteral("alice"));
        auto *tab = window.evaluateTab();
        QSignalSpy updated(tab, &ui::EvaluateTab::teamAgreementUpdated);
        QVERIFY(window.openProject(m_file));
        QVERIFY(updated.wait(20000));
        QVERIFY2(tab->teamAgreementText().contains("not yet measurable"), qPrintable(tab->teamAgreementText()));
        {
            // Two other analysts judge three pairs (another process: its own connection and writer).
            auto db = storage::Database::open(m_file.toStdString(), storage::Database::Mode::ReadOnly);
            const auto q = db.queryInt("SELECT min(id) FROM queries").value();
            auto ids = db.prepare("SELECT candidate_id FROM candidate_lists WHERE query_id = ?1 ORDER BY rank LIMIT 4")
                           .bind(1, q)
                           .collect([](const storage::Statement &s) { return s.columnInt(0); });
            storage::LabelWriter writer(m_file.toStdString());
            const auto label = [&](int a, int b, PairOutcome o, const char *who) {
                QVERIFY(writer.addPair({q, ids[a], ids[b], o, who, PairSource::Human, false, "random"}).get());
            };
            label(0, 1, PairOutcome::Left, "bob");
            label(0, 1, PairOutcome::Left, "carol");
            label(1, 2, PairOutcome::Right, "bob");
            label(1, 2, PairOutcome::Right, "carol");
            label(2, 3, PairOutcome::Left, "bob");
            label(2, 3, PairOutcome::Right, "carol");
        }
        QTRY_VERIFY_WITH_TIMEOUT(tab->teamAgreementText().contains("over 3 pairs"), 15000);
        QVERIFY2(tab->teamAgreementText().contains("alpha") && tab->teamAgreementText().contains("(6 judgements)"),
                 qPrintable(tab->teamAgreementText()));
    }

    void modelFormatting()
    {
        QCOMPARE(ui::EvaluationModel::stars(0.2), QString());
        QCOMPARE(ui::EvaluationModel::stars(0.03), QStringLiteral("*"));
        QCOMPARE(ui::EvaluationModel::stars(0.001), QStringLiteral("**"));
        ui::EvaluationModel model;
        QAbstractItemModelTester tester(&model, QAbstractItemModelTester::FailureReportingMode::QtTest);
        model.setReport(nlohmann::json::parse(R"({"runs": [{"name": "a,b", "mean": {"map": 0.5}}], "comparisons": []})"),
                        {QStringLiteral("map")});
        QCOMPARE(model.toCsv(), std::string("run,metric,mean,mean_difference,p,p_holm,ci95_low,ci95_high\n\"a,b\",map,0.5,,,,,\n"));
        model.setReport({}, {});
        QCOMPARE(model.rowCount(), 0);
    }
};

QTEST_MAIN(TestEvaluateTab)
#include "test_evaluate_tab.moc"
