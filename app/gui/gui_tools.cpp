// SPDX-License-Identifier: GPL-3.0-or-later
#include "gui_tools.h"

#include "storage/repo/models.h"
#include "ui/candidate_view.h"
#include "ui/evaluate_tab.h"
#include "ui/hyperparameter_form.h"
#include "ui/label_tab.h"
#include "ui/main_window.h"
#include "ui/project_context.h"
#include "ui/project_summary.h"
#include "ui/query_list_model.h"
#include "ui/rank_tab.h"
#include "ui/train_tab.h"

#include <QApplication>
#include <QComboBox>
#include <QDir>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QGuiApplication>
#include <QProgressBar>
#include <QPushButton>
#include <QScreen>
#include <QSettings>
#include <QTabWidget>
#include <QTableView>
#include <QTimer>

#include <algorithm>
#include <cstdio>
#include <fstream>
#include <functional>
#include <map>
#include <sstream>
#include <string>
#include <unistd.h>

namespace unirank::app {
namespace {

/// Runs the event loop until `done()` holds or `seconds` pass; false on timeout.
bool waitFor(const std::function<bool()> &done, double seconds)
{
    QElapsedTimer clock;
    clock.start();
    while (!done()) {
        if (clock.elapsed() > seconds * 1000)
            return false;
        QApplication::processEvents(QEventLoop::AllEvents, 20);
    }
    return true;
}

void settle(int ms)
{
    QElapsedTimer clock;
    clock.start();
    while (clock.elapsed() < ms)
        QApplication::processEvents(QEventLoop::AllEvents, 10);
}

bool activate(ui::MainWindow &window, const QString &versionName)
{
    auto &context = window.context();
    if (versionName.isEmpty())
        return true;
    const auto *v = context.catalog().version(versionName.toStdString());
    if (!v) {
        std::fprintf(stderr, "error: the project has no model version '%s'\n", qPrintable(versionName));
        return false;
    }
    context.setActiveVersion(v->id);
    return true;
}

bool save(ui::MainWindow &window, const QString &file)
{
    QPixmap shot;
    if (QGuiApplication::platformName() == QLatin1String("xcb") && window.screen())
        shot = window.screen()->grabWindow(window.winId()); // the real window as X shows it
    if (shot.isNull())
        shot = window.grab();
    if (!shot.save(file)) {
        std::fprintf(stderr, "error: cannot write %s\n", qPrintable(file));
        return false;
    }
    std::printf("wrote %s (%dx%d)\n", qPrintable(file), shot.width(), shot.height());
    return true;
}

} // namespace

int takeScreenshots(const QString &projectFile, const QString &outDir, const QString &versionName)
{
    if (!QDir().mkpath(outDir)) {
        std::fprintf(stderr, "error: cannot create %s\n", qPrintable(outDir));
        return 1;
    }
    ui::MainWindow window;
    auto &context = window.context();
    if (context.annotator().isEmpty())
        context.setAnnotator(QStringLiteral("reviewer"));
    if (!window.openProject(projectFile)) {
        std::fprintf(stderr, "error: cannot open %s\n", qPrintable(projectFile));
        return 1;
    }
    if (!activate(window, versionName))
        return 1;
    window.resize(1400, 860);
    window.show();
    if (!waitFor([&] { return context.snapshot() != nullptr; }, 60)) {
        std::fprintf(stderr, "error: the collection did not load\n");
        return 1;
    }
    bool ok = true;
    // Project tab.
    window.tabs()->setCurrentWidget(window.summary());
    settle(800);
    ok = save(window, outDir + QStringLiteral("/project.png")) && ok;
    // Rank tab: the second query, with a candidate that has an image selected for the detail pane.
    auto *rank = window.rankTab();
    window.tabs()->setCurrentWidget(rank);
    if (rank->queryModel()->rowCount() > 1)
        rank->queryView()->selectRow(1);
    waitFor([&] { return rank->rankedModel()->rowCount() > 0; }, 120);
    for (int row = 0; row < rank->rankedModel()->rowCount(); ++row)
        if (!rank->rankedModel()->rowAt(row)->image.empty()) {
            rank->rankedView()->selectRow(row);
            break;
        }
    waitFor([&] { return rank->detail()->shownImage().isEmpty() || rank->detail()->imageLoaded(); }, 30);
    settle(1500); // thumbnails
    ok = save(window, outDir + QStringLiteral("/rank.png")) && ok;
    // Label tab: a pair with both sides loaded.
    auto *label = window.labelTab();
    window.tabs()->setCurrentWidget(label);
    waitFor([&] { return label->currentPair().has_value(); }, 60);
    const auto loaded = [](ui::CandidateView *v) { return v->shownImage().isEmpty() || v->imageLoaded(); };
    waitFor([&] { return loaded(label->leftView()) && loaded(label->rightView()); }, 30);
    settle(500);
    ok = save(window, outDir + QStringLiteral("/label.png")) && ok;
    // Train tab: the newest run of the project with its charts and checkpoints.
    window.tabs()->setCurrentWidget(window.trainTab());
    settle(1500);
    ok = save(window, outDir + QStringLiteral("/train.png")) && ok;
    // Evaluate tab.
    auto *evaluate = window.evaluateTab();
    window.tabs()->setCurrentWidget(evaluate);
    bool evaluated = false;
    QObject::connect(evaluate, &ui::EvaluateTab::evaluated, [&] { evaluated = true; });
    QObject::connect(evaluate, &ui::EvaluateTab::evaluationFailed, [&](const QString &m) {
        std::fprintf(stderr, "error: evaluation failed: %s\n", qPrintable(m));
        evaluated = true;
        ok = false;
    });
    evaluate->evaluate();
    waitFor([&] { return evaluated; }, 120);
    settle(800);
    ok = save(window, outDir + QStringLiteral("/evaluate.png")) && ok;
    return ok ? 0 : 1;
}

namespace {

double percentile(std::vector<double> sorted, double p)
{
    if (sorted.empty())
        return 0;
    std::sort(sorted.begin(), sorted.end());
    return sorted[std::min(sorted.size() - 1, std::size_t(p * double(sorted.size())))];
}

/// Starts a small instruction-tuning round from the Train tab, as a user's click does.
bool startTraining(ui::TrainTab &train)
{
    train.stageCombo()->setCurrentIndex(0);
    train.form()->setValues({{"max_steps", 2000}, {"per_device_train_batch_size", 4}, {"save_steps", 50},
                             {"max_candidates_per_query", 8}, {"validation_split", 0.0}});
    if (!train.startButton()->isEnabled())
        return false;
    train.start();
    return train.isBusy();
}

} // namespace

int benchLatency(const QString &projectFile, const QString &versionName, int threads, LatencyLoad load)
{
    // The model loads with the stored settings; use the benchmark's thread count for this run only.
    const auto saved = ui::ScoringSettings::load();
    auto settings = saved;
    settings.threads = threads;
    settings.save();
    ui::MainWindow window;
    auto &context = window.context();
    const bool opened = window.openProject(projectFile) && activate(window, versionName);
    saved.save();
    if (!opened)
        return 1;
    window.show();
    auto *rank = window.rankTab();
    window.tabs()->setCurrentWidget(rank);
    if (!waitFor([&] { return context.snapshot() && context.scoring().isReady(); }, 120)) {
        std::fprintf(stderr, "error: the model or the collection did not load\n");
        return 1;
    }
    if (load.labels && !ui::ProjectContext::isValidAnnotator(context.annotator()))
        context.setAnnotator(QStringLiteral("bench"));
    settle(500);

    // Training: the Train tab's form is filled and started like a user's click; its progress bar
    // counts the steps the child process reports.
    auto *train = window.trainTab();
    int trainingSteps = 0;
    bool trainingStarted = false;
    if (load.training) {
        QObject::connect(train->progressBar(), &QProgressBar::valueChanged, [&](int v) { trainingSteps = std::max(trainingSteps, v); });
        trainingStarted = startTraining(*train);
        if (!trainingStarted) {
            std::fprintf(stderr, "error: the Train tab did not start a run: %s\n", qPrintable(train->statusText()));
            return 1;
        }
        // The window opens once the run trains (its child has loaded the model and reports steps).
        if (!waitFor([&] { return trainingSteps > 0 || !train->isBusy(); }, 180) || !train->isBusy()) {
            std::fprintf(stderr, "error: the training run did not reach its first step: %s\n", qPrintable(train->statusText()));
            return 1;
        }
    }

    std::vector<double> lateness; // ms beyond the timer's period
    QElapsedTimer clock;
    QTimer probe;
    probe.setTimerType(Qt::PreciseTimer);
    constexpr int period = 5;
    qint64 last = 0;
    QObject::connect(&probe, &QTimer::timeout, [&] {
        const auto now = clock.nsecsElapsed();
        if (last != 0)
            lateness.push_back(std::max(0.0, double(now - last) / 1e6 - period));
        last = now;
    });
    int switches = 0;
    QTimer user;
    QObject::connect(&user, &QTimer::timeout, [&] {
        const int rows = rank->queryModel()->rowCount();
        if (rows > 0)
            rank->queryView()->selectRow(++switches % rows);
    });
    // Labels: a grade every 250 ms on the shown list; the acknowledgement time of each.
    std::map<quint64, qint64> submitted; // ticket -> ns
    std::vector<double> ackMs;
    int labelsFailed = 0, waits = 0;
    QTimer labeller;
    QObject::connect(&labeller, &QTimer::timeout, [&] {
        const auto *row = rank->rankedModel()->rowAt(int(submitted.size() + ackMs.size()) % std::max(1, rank->rankedModel()->rowCount()));
        if (!row)
            return;
        if (const auto ticket = context.addGraded(rank->currentQuery(), row->candidateId, int(ackMs.size() % 4)))
            submitted[*ticket] = clock.nsecsElapsed();
    });
    QObject::connect(&context, &ui::ProjectContext::labelSaved, [&](quint64 ticket) {
        if (const auto it = submitted.find(ticket); it != submitted.end()) {
            ackMs.push_back(double(clock.nsecsElapsed() - it->second) / 1e6);
            submitted.erase(it);
        }
    });
    QObject::connect(&context, &ui::ProjectContext::labelFailed, [&](quint64 ticket) { labelsFailed += int(submitted.erase(ticket)); });
    QObject::connect(&context, &ui::ProjectContext::labelWaiting, [&] { ++waits; });
    bool finished = false, stored = false;
    QObject::connect(rank, &ui::RankTab::scoreAllFinished, [&](bool ok) {
        finished = true;
        stored = ok;
    });
    clock.start();
    probe.start(period);
    user.start(150);
    if (load.labels)
        labeller.start(250);
    QElapsedTimer scoring;
    scoring.start();
    rank->scoreAll();
    const bool done = waitFor([&] { return finished; }, 1800);
    const double seconds = scoring.elapsed() / 1000.0;
    probe.stop();
    user.stop();
    labeller.stop();
    const bool trainingRunning = load.training && train->isBusy();
    if (!done || !stored || lateness.size() < 20) {
        std::fprintf(stderr, "error: scoring did not finish and store a run (%zu samples)\n", lateness.size());
        return 1;
    }
    const auto p99 = percentile(lateness, 0.99);
    std::printf("{\"bench\": \"gui-latency\", \"platform\": \"%s\", \"scoring_threads\": %d, \"queries\": %zu, "
                "\"scoring_seconds\": %.2f, \"samples\": %zu, \"query_switches\": %d, \"timer_period_ms\": %d, "
                "\"lateness_ms\": {\"p50\": %.2f, \"p90\": %.2f, \"p99\": %.2f, \"max\": %.2f}, "
                "\"training\": {\"run\": %s, \"steps_seen\": %d, \"still_running_at_end\": %s}, "
                "\"labels\": {\"acknowledged\": %zu, \"failed\": %d, \"unanswered\": %zu, \"busy_retries\": %d, "
                "\"ack_ms\": {\"p50\": %.1f, \"p99\": %.1f, \"max\": %.1f}}, \"p99_under_50ms\": %s}\n",
                qPrintable(QGuiApplication::platformName()), threads, context.snapshot()->lists.size(), seconds,
                lateness.size(), switches, period, percentile(lateness, 0.5), percentile(lateness, 0.9), p99,
                percentile(lateness, 1.0), trainingStarted ? "true" : "false", trainingSteps,
                trainingRunning ? "true" : "false", ackMs.size(), labelsFailed, submitted.size(), waits,
                percentile(ackMs, 0.5), percentile(ackMs, 0.99), percentile(ackMs, 1.0), p99 < 50 ? "true" : "false");
    std::fflush(stdout);
    if (trainingRunning)
        train->stopAndWait(120000); // the run saves a checkpoint and stops; not part of the measurement
    return 0;
}

double msSinceProcessStart()
{
    std::ifstream stat("/proc/self/stat"), uptime("/proc/uptime");
    std::string line;
    double up = 0;
    if (!std::getline(stat, line) || !(uptime >> up))
        return -1;
    // Field 22 (starttime, clock ticks after boot) counts from the field after the command's ')'.
    std::istringstream rest(line.substr(line.rfind(')') + 2));
    std::string field;
    for (int i = 3; i <= 22 && rest >> field; ++i)
        if (i == 22)
            return (up - std::stod(field) / double(sysconf(_SC_CLK_TCK))) * 1000.0;
    return -1;
}

int benchStartup(const QString &projectFile, double mainStartedMs)
{
    ui::MainWindow window;
    auto *rank = window.rankTab();
    double firstList = -1;
    QObject::connect(rank, &ui::RankTab::rankingShown, [&] {
        if (firstList < 0 && rank->rankedModel()->rowCount() > 0)
            firstList = msSinceProcessStart();
    });
    if (!window.openProject(projectFile))
        return 1;
    window.tabs()->setCurrentWidget(rank);
    window.show();
    if (!waitFor([&] { return firstList >= 0; }, 120)) {
        std::fprintf(stderr, "error: no ranked list was shown within 120 s\n");
        return 1;
    }
    const auto version = window.context().versionName(window.context().activeVersion());
    std::printf("{\"bench\": \"gui-startup\", \"platform\": \"%s\", \"version\": \"%s\", \"rows\": %d, "
                "\"main_ms\": %.0f, \"first_ranked_list_ms\": %.0f}\n",
                qPrintable(QGuiApplication::platformName()), qPrintable(version), rank->rankedModel()->rowCount(), mainStartedMs,
                firstList);
    return 0;
}

} // namespace unirank::app
