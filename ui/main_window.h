// SPDX-License-Identifier: GPL-3.0-or-later
// The application window. For now: open a project and see what it holds; the Rank, Label, Evaluate and
// Train tabs plug in here as they arrive.
//
// Threading: GUI thread only.
#pragma once

#include <QMainWindow>

namespace unirank::ui {

class ProjectSummary;

class MainWindow final : public QMainWindow {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(MainWindow)

public:
    explicit MainWindow(QWidget *parent = nullptr);

    void openProject(const QString &file);
    ProjectSummary *summary() const { return m_summary; }

private:
    ProjectSummary *m_summary;
};

} // namespace unirank::ui
