// SPDX-License-Identifier: GPL-3.0-or-later
// The application window: File (new, open, recent, import, close), Edit (undo/redo of labels),
// Model (versions, settings) and Help (the demo project, about) menus over five tabs: Project (what the
// file holds), Rank, Label, Train and Evaluate. The tabs share one ProjectContext owned here. Closing
// the window, or another project, while a training run goes asks first; stopping lets the run save
// its checkpoint.
//
// Threading: GUI thread only. Errors: message boxes for user actions, the status bar otherwise.
#pragma once

#include <QMainWindow>

class QAction;
class QComboBox;
class QMenu;
class QTabWidget;

namespace unirank::ui {

class EvaluateTab;
class LabelTab;
class ProjectContext;
class ProjectSummary;
class RankTab;
class TrainTab;

class MainWindow final : public QMainWindow {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(MainWindow)

public:
    explicit MainWindow(QWidget *parent = nullptr);
    ~MainWindow() override;

    /// Opens a project file; false (with a message in the status bar) when it cannot be opened.
    bool openProject(const QString &file);
    /// Starts importing a dataset folder into the open project (a progress dialog shows it).
    class ImportDialog *importDataset(const QString &folder);

    ProjectContext &context() const { return *m_context; }
    ProjectSummary *summary() const { return m_summary; }
    RankTab *rankTab() const { return m_rank; }
    LabelTab *labelTab() const { return m_label; }
    EvaluateTab *evaluateTab() const { return m_evaluate; }
    TrainTab *trainTab() const { return m_train; }
    /// Opens the demo project in the user's data folder, building it first (unirank-cli demo) when absent.
    void openDemoProject();
    QTabWidget *tabs() const { return m_tabs; }
    QAction *undoAction() const { return m_undo; }
    QAction *redoAction() const { return m_redo; }

protected:
    void closeEvent(QCloseEvent *event) override;

private:
    void buildMenus();
    void updateRecentMenu();
    void updateUndoActions();
    void fillCollections();
    void askAnnotator();
    void openQueryInRankTab(const QString &queryExtId);

    ProjectContext *m_context;
    QTabWidget *m_tabs;
    ProjectSummary *m_summary;
    RankTab *m_rank;
    LabelTab *m_label;
    TrainTab *m_train;
    EvaluateTab *m_evaluate;
    QComboBox *m_collection;
    QMenu *m_recent = nullptr;
    QAction *m_undo = nullptr;
    QAction *m_redo = nullptr;
};

} // namespace unirank::ui
