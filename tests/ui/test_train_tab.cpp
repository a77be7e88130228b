// SPDX-License-Identifier: GPL-3.0-or-later
// The Train tab on the demo project, offscreen, with the real unirank-cli as its child process: the
// form, data preview and command preview; a tiny instruction-tuning run started from the tab shows
// progress and live charts, is cancelled (a checkpoint is left and the run is recorded as cancelled),
// a checkpoint becomes the active version with "Use this version", Resume finishes the run, the new
// version is scored and appears in the Evaluate tab, and "Evaluate" on a checkpoint shows it there. Closing the window while a run goes asks first:
// "No" keeps it training, "Yes" stops it after a complete checkpoint. A run the CLI refuses ends in a
// failed state that names the reason. Help > Open Demo Project builds the demo project once.
#include "storage/project.h"
#include "storage/repo/models.h"
#include "storage/repo/training.h"
#include "ui/checkpoint_panel.h"
#include "ui/evaluate_tab.h"
#include "ui/evaluation_model.h"
#include "ui/hyperparameter_form.h"
#include "ui/main_window.h"
#include "ui/project_context.h"
#include "ui/train_command.h"
#include "ui/train_tab.h"
#include "ui/training_chart.h"

#include <QApplication>
#include <QCheckBox>
#include <QComboBox>
#include <QDir>
#include <QLineEdit>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QProcess>
#include <QProgressBar>
#include <QPushButton>
#include <QSignalSpy>
#include <QStandardPaths>
#include <QTabWidget>
#include <QTableWidget>
#include <QTemporaryDir>
#include <QTest>
#include <QTimer>
#include <QtCharts/QChart>

#include <filesystem>

using namespace unirank;
namespace fs = std::filesystem;

namespace {

/// Answers the next modal question box with `button`.
void answerNextQuestion(QMessageBox::StandardButton button, bool *asked)
{
    QTimer::singleShot(100, [button, asked] {
        auto *box = qobject_cast<QMessageBox *>(QApplication::activeModalWidget());
        if (!box) {
            answerNextQuestion(button, asked); // not shown yet
            return;
        }
        *asked = true;
        box->button(button)->click();
    });
}

/// A run long enough to cancel in the middle, short enough for the suite.
const nlohmann::json kTinyRun{{"max_steps", 40},           {"per_device_train_batch_size", 4}, {"save_steps", 5},
                              {"max_candidates_per_query", 8}, {"validation_split", 0.25}};

} // namespace

class TestTrainTab : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QString m_project;

    ui::TrainingRunner::Outcome outcomeOf(const QSignalSpy &spy, int i)
    {
        return spy.at(i).at(0).value<ui::TrainingRunner::Outcome>();
    }

private slots:
    void initTestCase()
    {
        QStandardPaths::setTestModeEnabled(true);
        qputenv("UNIRANK_CLI", UNIRANK_CLI);
        qputenv("OMP_NUM_THREADS", "1"); // the children's thread count: CTest runs two tests at a time
        m_project = m_dir.filePath("demo.unirank");
        QProcess demo;
        demo.start(QStringLiteral(UNIRANK_CLI), {"demo", m_project});
        QVERIFY(demo.waitForFinished(240000));
        QVERIFY2(demo.exitCode() == 0, demo.readAllStandardError().constData());
        qRegisterMetaType<ui::TrainingRunner::Outcome>();
    }

    void trainCancelResumeEvaluate()
    {
        ui::MainWindow window;
        window.context().setAnnotator(QStringLiteral("researcher"));
        QVERIFY(window.openProject(m_project));
        window.show();
        auto *train = window.trainTab();
        window.tabs()->setCurrentWidget(train);

        // The form: instruction tuning from the demo model, every setting with a tooltip.
        QCOMPARE(train->stageCombo()->currentIndex(), 0);
        QVERIFY(train->startFromCombo()->currentText().startsWith("clipart-demo"));
        auto *form = train->form();
        QVERIFY(form->keys().contains("learning_rate") && form->keys().contains("listwise_weight"));
        QVERIFY(!form->keys().contains("num_generations"));
        QVERIFY(form->editor("learning_rate")->toolTip().contains("Default"));
        QVERIFY(form->overrides().empty());
        // A user edit becomes a --set in the command preview.
        auto *lr = qobject_cast<QLineEdit *>(form->editor("learning_rate"));
        lr->selectAll();
        QTest::keyClicks(lr, "0.001");
        QCOMPARE(form->overrides().at("learning_rate").get<double>(), 1e-3);
        form->setValues(kTinyRun);
        const auto command = train->commandView()->toPlainText();
        QVERIFY2(command.contains("unirank-cli train sft") && command.contains("--set max_steps=40") &&
                     command.contains("--set learning_rate=0.001") && command.contains("unirank-cli score"),
                 qPrintable(command));
        // The data preview counts the demo's graded labels.
        QTRY_VERIFY_WITH_TIMEOUT(train->previewTable()->rowCount() > 0, 30000);
        bool graded = false;
        for (int row = 0; row < train->previewTable()->rowCount(); ++row)
            graded = graded || (train->previewTable()->item(row, 0)->text().contains("graded labels: relevant") &&
                                train->previewTable()->item(row, 1)->text().toInt() > 0);
        QVERIFY(graded);

        // Start, watch, cancel.
        QSignalSpy finished(train, &ui::TrainTab::runFinished);
        QVERIFY(train->startButton()->isEnabled());
        QTest::mouseClick(train->startButton(), Qt::LeftButton);
        QCOMPARE(train->state(), ui::TrainTab::State::Training);
        QVERIFY(!train->startButton()->isEnabled());
        QTRY_VERIFY_WITH_TIMEOUT(train->progressBar()->value() >= 7, 180000); // past the checkpoint at step 5
        QCOMPARE(train->progressBar()->maximum(), 40);
        QVERIFY(train->cancelButton()->isEnabled());
        QTest::mouseClick(train->cancelButton(), Qt::LeftButton);
        QVERIFY(finished.wait(120000));
        QCOMPARE(outcomeOf(finished, 0), ui::TrainingRunner::Outcome::Cancelled);
        QCOMPARE(train->state(), ui::TrainTab::State::Idle);
        QVERIFY2(train->statusText().contains("Cancelled at step"), qPrintable(train->statusText()));
        const auto runId = train->shownRun();
        QVERIFY(runId);
        {
            auto project = std::move(storage::Project::open(m_project.toStdString()).value());
            QVERIFY(storage::findTrainingRun(project->db(), *runId)->status == storage::TrainingStatus::Cancelled);
        }
        const auto loss = train->metrics().series("loss");
        QVERIFY(loss.size() >= 7);
        QVERIFY(train->charts().front()->seriesCount() >= 2); // raw and smoothed
        QVERIFY(!train->logView()->toPlainText().isEmpty());
        // The log scale applies (the loss is positive).
        train->logScaleBox()->setChecked(true);
        QVERIFY(train->charts().front()->logScaleShown());

        // A checkpoint of the cancelled run becomes the active version.
        auto *panel = train->checkpoints();
        QVERIFY(!panel->checkpoints().empty());
        int row = -1;
        for (int i = 0; i < int(panel->checkpoints().size()); ++i)
            if (panel->checkpoints()[std::size_t(i)].name == "checkpoint-5")
                row = i;
        QVERIFY(row >= 0);
        panel->table()->selectRow(row);
        QSignalSpy activated(panel, &ui::CheckpointPanel::versionActivated);
        QTest::mouseClick(panel->useButton(), Qt::LeftButton);
        QVERIFY(activated.wait(60000));
        const auto checkpointVersion = activated.first().at(0).toString();
        QVERIFY(checkpointVersion.endsWith("checkpoint-5"));
        QCOMPARE(window.context().versionName(window.context().activeVersion()), checkpointVersion);

        // Resume finishes the same run; the new version is scored for the Evaluate tab.
        QVERIFY(train->resumeButton()->isEnabled());
        QTest::mouseClick(train->resumeButton(), Qt::LeftButton);
        QVERIFY(finished.wait(240000));
        QCOMPARE(outcomeOf(finished, 1), ui::TrainingRunner::Outcome::Completed);
        QTRY_VERIFY_WITH_TIMEOUT(train->state() == ui::TrainTab::State::Idle, 240000);
        QVERIFY2(train->statusText().contains("scored"), qPrintable(train->statusText()));
        QCOMPARE(train->progressBar()->value(), train->progressBar()->maximum());
        QCOMPARE(train->shownRun(), runId);
        QCOMPARE(train->metrics().series("loss").size(), std::size_t(40)); // the earlier part comes from the project
        std::string newVersion;
        {
            auto project = std::move(storage::Project::open(m_project.toStdString()).value());
            const auto run = storage::findTrainingRun(project->db(), *runId);
            QVERIFY(run->status == storage::TrainingStatus::Completed);
            QVERIFY(run->resultModelVersionId);
            for (const auto &v : storage::listModelVersions(project->db()))
                if (v.id == *run->resultModelVersionId)
                    newVersion = v.name;
            QVERIFY(storage::latestScoreRun(project->db(), *run->resultModelVersionId, storage::listCollections(project->db()).front().id));
        }

        // The Evaluate tab lists it (once the catalog is re-read off the GUI thread) and evaluates it.
        auto *evaluate = window.evaluateTab();
        QTRY_VERIFY_WITH_TIMEOUT(evaluate->baselineCombo()->findText(QString::fromStdString(newVersion)) >= 0, 10000);
        QSignalSpy evaluated(evaluate, &ui::EvaluateTab::evaluated);
        window.tabs()->setCurrentWidget(evaluate);
        evaluate->evaluate();
        QVERIFY(evaluated.wait(120000));
        QStringList rows;
        for (int r = 0; r < evaluate->model()->rowCount(); ++r)
            rows << evaluate->model()->headerData(r, Qt::Vertical).toString();
        QVERIFY2(rows.join('|').contains(QString::fromStdString(newVersion)), qPrintable(rows.join('|')));

        // "Evaluate" on the run's published best: scored again, then shown in the Evaluate tab.
        window.tabs()->setCurrentWidget(train);
        QCOMPARE(panel->checkpoints().front().name, QStringLiteral("best"));
        panel->table()->selectRow(0);
        QSignalSpy evaluateAsked(train, &ui::TrainTab::evaluateRequested);
        QTest::mouseClick(panel->evaluateButton(), Qt::LeftButton);
        QVERIFY(evaluateAsked.wait(240000));
        QCOMPARE(evaluateAsked.first().at(0).toString(), QString::fromStdString(newVersion)); // not registered again
        QCOMPARE(window.tabs()->currentWidget(), evaluate);
        QVERIFY(evaluated.wait(120000));
    }

    void helpOpensTheDemoProject()
    {
        // Built by `unirank-cli demo` in the user's data folder the first time, opened as it is after.
        const auto folder = QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation) + QStringLiteral("/demo");
        QDir(folder).removeRecursively();
        ui::MainWindow window;
        window.context().setAnnotator(QStringLiteral("researcher"));
        window.openDemoProject();
        QTRY_VERIFY_WITH_TIMEOUT(window.context().isOpen(), 120000);
        QCOMPARE(window.context().file(), folder + QStringLiteral("/demo.unirank"));
        QCOMPARE(window.context().versionName(window.context().activeVersion()), QStringLiteral("clipart-demo"));
        window.context().close();
        window.openDemoProject(); // now it exists: opened at once
        QVERIFY(window.context().isOpen());
        QDir(folder).removeRecursively();
    }

    void alignmentForm()
    {
        ui::MainWindow window;
        window.context().setAnnotator(QStringLiteral("researcher"));
        QVERIFY(window.openProject(m_project));
        auto *train = window.trainTab();
        train->stageCombo()->setCurrentIndex(1);
        QVERIFY(train->methodCombo()->isEnabled());
        QCOMPARE(train->methodCombo()->currentData().toString(), QStringLiteral("pl-grpo"));
        QVERIFY(train->form()->keys().contains("num_generations") && train->form()->keys().contains("max_kl"));
        QVERIFY(!train->form()->keys().contains("listwise_weight") && !train->form()->keys().contains("label_smoothing"));
        QCOMPARE(train->form()->values().at("learning_rate").get<double>(), 2e-3); // PL-GRPO's own default
        train->methodCombo()->setCurrentIndex(train->methodCombo()->findData(QStringLiteral("dpo")));
        QVERIFY(train->form()->keys().contains("label_smoothing") && !train->form()->keys().contains("num_generations"));
        QCOMPARE(train->form()->values().at("learning_rate").get<double>(), 2e-4);
        QVERIFY(train->form()->overrides().empty());
        // Alignment may start from an adapter; the command names the method and the start.
        const auto command = train->commandView()->toPlainText();
        QVERIFY2(command.contains("unirank-cli train align") && command.contains("--method dpo"), qPrintable(command));
        // The charts of the stage: reward, KL and pair accuracy.
        QStringList titles;
        for (auto *chart : train->charts())
            titles << chart->chart()->title();
        QVERIFY2(titles.contains("Reward") && titles.contains("KL to the reference") && titles.contains("Pair accuracy"),
                 qPrintable(titles.join(',')));
    }

    void aFailedRunSaysWhy()
    {
        ui::MainWindow window;
        window.context().setAnnotator(QStringLiteral("researcher"));
        QVERIFY(window.openProject(m_project));
        auto *train = window.trainTab();
        train->form()->setValues({{"validation_split", 1.5}}); // the CLI refuses it, naming the key
        QSignalSpy finished(train, &ui::TrainTab::runFinished);
        train->start();
        QVERIFY(finished.wait(120000));
        QCOMPARE(outcomeOf(finished, 0), ui::TrainingRunner::Outcome::Failed);
        QCOMPARE(train->state(), ui::TrainTab::State::Idle);
        QVERIFY2(train->statusText().contains("failed") && train->statusText().contains("validation_split"),
                 qPrintable(train->statusText()));
        QVERIFY(train->startButton()->isEnabled());
    }

    void closingAsksAndCheckpoints()
    {
        auto window = std::make_unique<ui::MainWindow>();
        window->context().setAnnotator(QStringLiteral("researcher"));
        QVERIFY(window->openProject(m_project));
        window->show();
        auto *train = window->trainTab();
        window->tabs()->setCurrentWidget(train);
        train->form()->setValues(kTinyRun);
        train->form()->setValues({{"max_steps", 400}, {"save_steps", 0}});
        train->start();
        QTRY_VERIFY_WITH_TIMEOUT(train->progressBar()->value() >= 2, 180000);
        const auto runId = train->shownRun();
        QVERIFY(runId);

        bool asked = false;
        answerNextQuestion(QMessageBox::No, &asked);
        QVERIFY(!window->close());
        QVERIFY(asked);
        QCOMPARE(train->state(), ui::TrainTab::State::Training);

        asked = false;
        answerNextQuestion(QMessageBox::Yes, &asked);
        QVERIFY(window->close());
        QVERIFY(asked);
        QVERIFY(!train->runner().isRunning());
        auto project = std::move(storage::Project::open(m_project.toStdString()).value());
        const auto run = storage::findTrainingRun(project->db(), *runId);
        QVERIFY2(run->status == storage::TrainingStatus::Cancelled, storage::toString(run->status).data());
        const auto checkpoints = ui::listCheckpoints(QString::fromStdString(run->config.at("output_dir").get<std::string>()));
        QVERIFY(!checkpoints.empty());
        const fs::path last = checkpoints.back().folder.toStdString();
        QVERIFY(fs::exists(last / "trainer_state.json") && fs::exists(last / "adapter_model.safetensors") &&
                fs::exists(last / "optimizer.safetensors"));
    }
};

QTEST_MAIN(TestTrainTab)
#include "test_train_tab.moc"
