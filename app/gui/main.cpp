// SPDX-License-Identifier: GPL-3.0-or-later
// unirank: the desktop application. Usage: unirank [PROJECT.unirank]
#include "ui/main_window.h"

#include <QApplication>
#include <QCommandLineParser>

int main(int argc, char **argv)
{
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("UniRank Studio"));
    QApplication::setOrganizationName(QStringLiteral("UniRank"));
    QApplication::setApplicationVersion(QStringLiteral("0.1.0"));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Domain-specific reranking of hybrid text-image candidate lists"));
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addPositionalArgument(QStringLiteral("project"), QStringLiteral("Project file to open (*.unirank)"));
    parser.process(app);

    unirank::ui::MainWindow window;
    if (!parser.positionalArguments().isEmpty())
        window.openProject(parser.positionalArguments().constFirst());
    window.show();
    return QApplication::exec();
}
