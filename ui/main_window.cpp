// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/main_window.h"

#include "ui/project_summary.h"

#include <QFileDialog>
#include <QFileInfo>
#include <QMenuBar>

namespace unirank::ui {

MainWindow::MainWindow(QWidget *parent)
    : QMainWindow(parent)
    , m_summary(new ProjectSummary(this))
{
    setWindowTitle(tr("UniRank Studio"));
    setCentralWidget(m_summary);
    auto *file = menuBar()->addMenu(tr("&File"));
    file->addAction(tr("&Open Project..."), QKeySequence::Open, this, [this] {
        const auto path = QFileDialog::getOpenFileName(this, tr("Open Project"), {}, tr("UniRank projects (*.unirank)"));
        if (!path.isEmpty())
            openProject(path);
    });
    file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);
    resize(900, 600);
}

void MainWindow::openProject(const QString &file)
{
    setWindowTitle(tr("%1 - UniRank Studio").arg(QFileInfo(file).fileName()));
    m_summary->load(file);
}

} // namespace unirank::ui
