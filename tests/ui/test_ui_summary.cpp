// SPDX-License-Identifier: GPL-3.0-or-later
// The main window opens a project and shows its summary, loaded off the GUI thread.
#include "storage/dataset_import.h"
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
        {
            auto p = std::move(storage::Project::create(file).value());
            QVERIFY(storage::importDataset(*p, test::smokeDataset(), {}));
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
    }

    void reportsUnopenableProject()
    {
        ui::ProjectSummary summary;
        QSignalSpy failed(&summary, &ui::ProjectSummary::loadFailed);
        summary.load(m_dir.filePath(QStringLiteral("missing.unirank")));
        QVERIFY(failed.wait(20000));
        QVERIFY(failed.first().first().toString().contains(QStringLiteral("no such project file")));
        QCOMPARE(summary.table()->rowCount(), 0);
    }
};

QTEST_MAIN(TestUiSummary)
#include "test_ui_summary.moc"
