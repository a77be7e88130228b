// SPDX-License-Identifier: GPL-3.0-or-later
// The main window opens a project and shows its summary, loaded off the GUI thread.
#include "storage/dataset_import.h"
#include "storage/project_eval.h"
#include "storage/repo/catalog.h"
#include "storage/score_store.h"
#include "test_support.h"
#include "ui/main_window.h"
#include "ui/project_summary.h"

#include <QSignalSpy>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>

using namespace unirank;

class TestUiSummary : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;

private slots:
    void showsProjectContents()
    {
        const auto file = std::filesystem::path(m_dir.path().toStdString()) / "ui.unirank";
        double ndcg = 0;
        {
            auto p = std::move(storage::Project::create(file).value());
            QVERIFY(storage::importDataset(*p, test::smokeDataset(), {}));
            // A base version and an adapter on it; the adapter has an evaluated score run.
            const auto collection = storage::listCollections(p->db()).front().id;
            std::vector<storage::ScoredItem> items;
            for (const auto &list : storage::firstStageLists(*p, collection))
                for (std::size_t i = 0; i < list.items.size(); ++i)
                    items.push_back({list.queryId, list.items[i].candidateId, -double(i)});
            const auto base = storage::ensureModelVersion(p->db(), "base", storage::ModelKind::Base, "/b", "hb");
            const auto adapter = storage::ensureModelVersion(p->db(), "sft-1", storage::ModelKind::Adapter, "/a", "ha", base);
            storage::storeScoreRun(p->db(), adapter, collection, {}, items);
            storage::ProjectEvalOptions o;
            o.report.eval.metrics = {"ndcg_cut_10", "success_1"};
            o.report.permutations = 100;
            const auto report = storage::evaluateProject(*p, o);
            QVERIFY(report);
            ndcg = report->json.at("runs")[1].at("mean").at("ndcg_cut_10").get<double>();
        }
        ui::MainWindow window;
        window.show();
        QSignalSpy loaded(window.summary(), &ui::ProjectSummary::loaded);
        window.openProject(QString::fromStdString(file.string()));
        QVERIFY(loaded.wait(20000));
        auto *table = window.summary()->table();
        QCOMPARE(table->rowCount(), 1);
        QCOMPARE(table->item(0, 0)->text(), QStringLiteral("demo/clipart-smoke"));
        QCOMPARE(table->item(0, 2)->text(), QStringLiteral("515"));
        QCOMPARE(table->item(0, 4)->text(), QStringLiteral("251"));
        QVERIFY(window.windowTitle().contains(QStringLiteral("ui.unirank")));
        auto *versions = window.summary()->versionsTable();
        QCOMPARE(versions->rowCount(), 2);
        QCOMPARE(versions->item(1, 0)->text(), QStringLiteral("sft-1"));
        QCOMPARE(versions->item(1, 1)->text(), QStringLiteral("adapter"));
        QCOMPARE(versions->item(1, 2)->text(), QStringLiteral("base")); // lineage
        QCOMPARE(versions->item(1, 3)->text(), QStringLiteral("1"));
        QCOMPARE(versions->item(1, 4)->text(), QString::number(ndcg, 'f', 3));
        QCOMPARE(versions->item(0, 4)->text(), QString()); // never evaluated
    }

    void reportsUnopenableProject()
    {
        ui::ProjectSummary summary;
        QSignalSpy failed(&summary, &ui::ProjectSummary::loadFailed);
        summary.load(m_dir.filePath(QStringLiteral("missing.unirank")));
        QVERIFY(failed.wait(20000));
        QVERIFY(failed.first().first().toString().contains(QStringLiteral("no such project file")));
        QCOMPARE(summary.table()->rowCount(), 0);
        QCOMPARE(summary.versionsTable()->rowCount(), 0);
    }
};

QTEST_MAIN(TestUiSummary)
#include "test_ui_summary.moc"
