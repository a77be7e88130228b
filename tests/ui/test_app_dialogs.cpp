// SPDX-License-Identifier: GPL-3.0-or-later
// Project-level GUI flows, offscreen: importing a dataset shows progress and ends with a summary; a
// bad dataset shows the importer's message (file and line) and leaves the project unchanged; the
// model manager registers a model folder with the CLI's weight identity, refuses a folder that is not
// a model, and lists adapters under their parent.
#include "core/model/presets.h"
#include "core/model/torch_io.h"
#include "storage/dataset_import.h"
#include "storage/repo/catalog.h"
#include "storage/repo/models.h"
#include "storage/score_store.h"
#include "test_support.h"
#include "ui/import_dialog.h"
#include "ui/main_window.h"
#include "ui/model_manager.h"
#include "ui/project_context.h"
#include "ui/settings_dialog.h"

#include <QProgressBar>
#include <QSettings>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QTreeWidget>

using namespace unirank;

class TestAppDialogs : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;

    std::filesystem::path path(const std::string &name) const
    {
        return std::filesystem::path(m_dir.path().toStdString()) / name;
    }

private slots:
    void initTestCase() { QStandardPaths::setTestModeEnabled(true); }

    void importShowsProgress()
    {
        const auto file = path("import.unirank");
        QVERIFY(storage::Project::create(file));
        ui::MainWindow window;
        window.context().setAnnotator(QStringLiteral("alice"));
        QVERIFY(window.openProject(QString::fromStdString(file.string())));
        QSignalSpy snapshot(&window.context(), &ui::ProjectContext::snapshotReady);
        auto *dialog = window.importDataset(QString::fromStdString(test::smokeDataset().string()));
        QSignalSpy progress(dialog, &ui::ImportDialog::progressed);
        QSignalSpy done(dialog, &ui::ImportDialog::succeeded);
        QVERIFY(done.wait(60000));
        QVERIFY(progress.count() >= 2);
        // Both stages report, and the counts grow to the total.
        QStringList stages;
        for (const auto &p : progress)
            stages << p.at(0).toString();
        QVERIFY(stages.contains("images") && stages.contains("write"));
        const auto last = progress.last();
        QCOMPARE(last.at(1).toInt(), last.at(2).toInt());
        QVERIFY(dialog->message().contains("20 queries"));
        QCOMPARE(dialog->progressBar()->value(), dialog->progressBar()->maximum());
        // The window picks the new collection up.
        QVERIFY(snapshot.count() > 0 || snapshot.wait(20000));
        QCOMPARE(window.context().snapshot()->lists.size(), std::size_t(20));
    }

    void badDatasetShowsTheError()
    {
        const auto file = path("bad.unirank");
        QVERIFY(storage::Project::create(file));
        const auto data = path("bad-data");
        test::makeTinyDataset(data);
        test::writeText(data / "qrels.tsv", "query-id\tcorpus-id\tscore\nq1\tt1\t2\nq1\tnope\t1\n");
        ui::ImportDialog dialog(QString::fromStdString(file.string()), QString::fromStdString(data.string()));
        dialog.show();
        QSignalSpy failed(&dialog, &ui::ImportDialog::failed);
        QSignalSpy succeeded(&dialog, &ui::ImportDialog::succeeded);
        dialog.start();
        QVERIFY(failed.wait(30000));
        QCOMPARE(succeeded.count(), 0);
        const auto message = failed.first().at(0).toString();
        QVERIFY2(message.contains("qrels.tsv") && message.contains(":3"), qPrintable(message)); // file and line
        QVERIFY(message.contains("nope"));
        QCOMPARE(dialog.message(), message); // shown in the dialog
        auto project = std::move(storage::Project::open(file).value());
        QVERIFY(storage::listCollections(project->db()).empty()); // all or nothing
    }

    void settingsAndRecentProjects()
    {
        ui::SettingsDialog dialog;
        auto s = dialog.settings();
        QCOMPARE(s.device, QStringLiteral("cpu"));
        s.dtype = QStringLiteral("bf16");
        s.threads = 3;
        s.cacheMiB = 64;
        s.batchSize = 4;
        dialog.setSettings(s);
        dialog.settings().save();
        const auto loaded = ui::ScoringSettings::load();
        QCOMPARE(loaded.dtype, QStringLiteral("bf16"));
        QCOMPARE(loaded.threads, 3);
        QCOMPARE(loaded.cacheMiB, 64);
        QCOMPARE(loaded.batchSize, 4);
        ui::ScoringSettings{}.save();

        // Opening projects keeps a most-recent-first list without duplicates.
        const auto a = path("recent-a.unirank"), b = path("recent-b.unirank");
        QVERIFY(storage::Project::create(a));
        QVERIFY(storage::Project::create(b));
        ui::ProjectContext context;
        QVERIFY(context.open(QString::fromStdString(a.string())));
        QVERIFY(context.open(QString::fromStdString(b.string())));
        QVERIFY(context.open(QString::fromStdString(a.string())));
        const auto recent = QSettings().value(QStringLiteral("recentProjects")).toStringList();
        QCOMPARE(recent.value(0), QString::fromStdString(a.string()));
        QCOMPARE(recent.value(1), QString::fromStdString(b.string()));
        QCOMPARE(recent.count(QString::fromStdString(a.string())), 1);
        // A file that is not a project is refused with a message; the open project stays open.
        test::writeText(path("not-a-project.unirank"), "hello");
        const auto refused = context.open(QString::fromStdString(path("not-a-project.unirank").string()));
        QVERIFY(!refused);
        QVERIFY(!refused.error().message.empty());
        QVERIFY(context.isOpen());
        QCOMPARE(context.file(), QString::fromStdString(a.string()));
    }

    // Versions written elsewhere (a published checkpoint, a stored run) reach the GUI through a
    // catalog re-read on a pool thread: overlapping re-reads deliver only the newest catalog, but every
    // caller's continuation runs, after it; one whose receiver is gone does not.
    void catalogRereadsRunEveryContinuation()
    {
        const auto file = path("catalog.unirank");
        QVERIFY(storage::Project::create(file));
        ui::ProjectContext context;
        QVERIFY(context.open(QString::fromStdString(file.string())));
        QVERIFY(context.versions().empty());
        {
            auto db = storage::Database::open(file, storage::Database::Mode::ReadWrite);
            storage::ensureModelVersion(db, "elsewhere", storage::ModelKind::Base, "/nowhere", "h1", std::nullopt);
        }
        QVERIFY(context.versions().empty()); // not read on the GUI thread
        QSignalSpy changed(&context, &ui::ProjectContext::versionsChanged);
        std::vector<int> ran;
        auto gone = std::make_unique<QObject>();
        context.notifyVersionsChanged(&context, [&] { ran.push_back(1); });
        context.notifyVersionsChanged(gone.get(), [&] { ran.push_back(2); });
        context.notifyVersionsChanged(&context, [&] {
            ran.push_back(3);
            QCOMPARE(context.versions().size(), std::size_t(1)); // the re-read catalog is in place
        });
        gone.reset();
        QTRY_COMPARE_WITH_TIMEOUT(ran.size(), std::size_t(2), 10000);
        QCOMPARE(ran, (std::vector<int>{1, 3}));
        QCOMPARE(changed.count(), 1); // the older reads were dropped
        QCOMPARE(context.versionName(context.versions().front().id), QStringLiteral("elsewhere"));
    }

    void modelManagerRegistersVersions()
    {
        const auto file = path("models.unirank");
        QVERIFY(storage::Project::create(file));
        ui::ProjectContext context;
        QVERIFY(context.open(QString::fromStdString(file.string())));
        ui::ModelManagerDialog dialog(context);
        QSignalSpy added(&dialog, &ui::ModelManagerDialog::added);
        QSignalSpy failed(&dialog, &ui::ModelManagerDialog::addFailed);

        const auto model = test::sourceDir() / "resources/models/tiny-random";
        dialog.addFolder(QString::fromStdString(model.string()));
        QVERIFY(added.wait(30000));
        const auto versions = storage::listModelVersions(context.db());
        QCOMPARE(versions.size(), std::size_t(1));
        QCOMPARE(versions[0].name, std::string("tiny-random"));
        QCOMPARE(versions[0].contentHash, ui::ScoringService::folderHash(model)); // the CLI's identity
        QCOMPARE(dialog.tree()->topLevelItemCount(), 1);

        // Adding the same folder again finds the same version.
        dialog.addFolder(QString::fromStdString(model.string()));
        QVERIFY(added.wait(30000));
        QCOMPARE(added.last().at(0).value<std::int64_t>(), versions[0].id);
        QCOMPARE(storage::listModelVersions(context.db()).size(), std::size_t(1));

        // Not a model folder: refused with a message naming the folder, nothing stored.
        dialog.addFolder(QString::fromStdString(test::smokeDataset().string()));
        QCOMPARE(failed.count(), 1);
        QVERIFY(failed.first().at(0).toString().contains("config.json"));

        // An adapter folder is listed under its parent, with the adapter-on-base identity.
        const auto adapter = path("adapter");
        std::filesystem::create_directories(adapter);
        test::writeText(adapter / "adapter_config.json", R"({"peft_type": "LORA", "r": 2, "lora_alpha": 4})");
        std::filesystem::copy_file(model / "model.safetensors", adapter / "adapter_model.safetensors");
        dialog.addFolder(QString::fromStdString(adapter.string()), versions[0].id);
        QVERIFY(added.wait(30000));
        QCOMPARE(dialog.tree()->topLevelItemCount(), 1);
        QCOMPARE(dialog.tree()->topLevelItem(0)->childCount(), 1);
        // The family column: the base's, from its config.json; the adapter inherits it.
        QCOMPARE(dialog.tree()->topLevelItem(0)->text(ui::ModelManagerDialog::kFamilyColumn), QString("Qwen2-VL"));
        QCOMPARE(dialog.tree()->topLevelItem(0)->child(0)->text(ui::ModelManagerDialog::kFamilyColumn), QString("Qwen2-VL"));
        const auto all = storage::listModelVersions(context.db());
        QCOMPARE(all.back().parentId, std::optional(versions[0].id));
        QCOMPARE(all.back().contentHash, ui::ScoringService::adapterHash(versions[0].contentHash, adapter));
        const auto spec = context.specOf(all.back().id);
        QVERIFY(spec && spec->folder == QString::fromStdString(model.string()) && !spec->adapter.isEmpty());

        // A Qwen3-VL folder (its config.json; the weights only identify it here) shows its family.
        const auto qwen3 = path("qwen3-folder");
        std::filesystem::create_directories(qwen3);
        test::writeText(qwen3 / "config.json", model::tinyConfig(model::Family::Qwen3VL).toJson().dump());
        model::writeTensors(qwen3 / "model.safetensors", {{"stand-in", torch::ones({3})}});
        dialog.addFolder(QString::fromStdString(qwen3.string()));
        QVERIFY(added.wait(30000));
        QCOMPARE(dialog.tree()->topLevelItemCount(), 2);
        QCOMPARE(dialog.tree()->topLevelItem(1)->text(ui::ModelManagerDialog::kFamilyColumn), QString("Qwen3-VL"));
    }
};

QTEST_MAIN(TestAppDialogs)
#include "test_app_dialogs.moc"
