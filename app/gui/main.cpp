// SPDX-License-Identifier: GPL-3.0-or-later
// unirank: the desktop application.
//   unirank [PROJECT.unirank]
//   unirank --screenshots DIR [--version NAME] PROJECT    one PNG per tab (see gui_tools.h)
//   unirank --bench-latency [--version-name NAME] [--threads N] [--with-training] [--with-labels] PROJECT
//   unirank --bench-startup PROJECT                       time to the first ranked list (JSON)
#include "gui_tools.h"
#include "ui/main_window.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QIcon>
#include <QTabWidget>

int main(int argc, char **argv)
{
    const double mainStarted = unirank::app::msSinceProcessStart();
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("UniRank Studio"));
    QApplication::setOrganizationName(QStringLiteral("UniRank"));
    QApplication::setApplicationVersion(QStringLiteral(UNIRANK_VERSION));
    QApplication::setDesktopFileName(QStringLiteral("io.unirank.Studio"));
    QApplication::setWindowIcon(QIcon(QStringLiteral(":/icons/io.unirank.Studio.png")));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Domain-specific reranking of hybrid text-image candidate lists"));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(QStringLiteral("project"), QStringLiteral("Project file to open (*.unirank)"));
    const QCommandLineOption screenshots(QStringLiteral("screenshots"), QStringLiteral("Save one PNG per tab into DIR and exit"),
                                         QStringLiteral("DIR"));
    const QCommandLineOption bench(QStringLiteral("bench-latency"),
                                   QStringLiteral("Measure GUI event-loop latency while every query is scored; print JSON"));
    const QCommandLineOption version(QStringLiteral("version-name"), QStringLiteral("Model version to make active"),
                                     QStringLiteral("NAME"));
    const QCommandLineOption threads(QStringLiteral("threads"), QStringLiteral("Scoring threads for --bench-latency (0: libtorch default)"),
                                     QStringLiteral("N"), QStringLiteral("0"));
    const QCommandLineOption startup(QStringLiteral("bench-startup"),
                                     QStringLiteral("Open the project and print JSON with the time to the first ranked list"));
    const QCommandLineOption withTraining(QStringLiteral("with-training"),
                                          QStringLiteral("--bench-latency: run a training round from the Train tab meanwhile"));
    const QCommandLineOption withLabels(QStringLiteral("with-labels"),
                                        QStringLiteral("--bench-latency: give a graded label every 250 ms meanwhile"));
    parser.addOptions({screenshots, bench, startup, version, threads, withTraining, withLabels});
    parser.process(app);
    const auto args = parser.positionalArguments();

    if (parser.isSet(screenshots) || parser.isSet(bench) || parser.isSet(startup)) {
        if (args.size() != 1) {
            std::fprintf(stderr, "error: give exactly one project file\n");
            return 2;
        }
        if (parser.isSet(startup))
            return unirank::app::benchStartup(args.front(), mainStarted);
        if (parser.isSet(screenshots))
            return unirank::app::takeScreenshots(args.front(), parser.value(screenshots), parser.value(version));
        return unirank::app::benchLatency(args.front(), parser.value(version), parser.value(threads).toInt(),
                                          {parser.isSet(withTraining), parser.isSet(withLabels)});
    }

    unirank::ui::MainWindow window;
    if (!args.isEmpty() && window.openProject(args.constFirst()))
        window.tabs()->setCurrentIndex(1); // a project given to open: straight to its ranked lists
    window.show();
    return QApplication::exec();
}
