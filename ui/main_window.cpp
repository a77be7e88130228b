// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/main_window.h"

#include "ui/evaluate_tab.h"
#include "ui/import_dialog.h"
#include "ui/label_tab.h"
#include "ui/model_manager.h"
#include "ui/project_context.h"
#include "ui/project_summary.h"
#include "ui/rank_tab.h"
#include "ui/settings_dialog.h"
#include "ui/train_tab.h"
#include "ui/training_runner.h"

#include <QApplication>
#include <QCloseEvent>
#include <QComboBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QInputDialog>
#include <QLabel>
#include <QMenuBar>
#include <QMessageBox>
#include <QProgressDialog>
#include <QSettings>
#include <QStandardPaths>
#include <QStatusBar>
#include <QTabWidget>
#include <QToolBar>

namespace unirank::ui {

MainWindow::MainWindow(QWidget *parent)
    : QMainWindow(parent)
    , m_context(new ProjectContext(this))
    , m_tabs(new QTabWidget(this))
    , m_summary(new ProjectSummary(this))
    , m_rank(new RankTab(*m_context, this))
    , m_label(new LabelTab(*m_context, this))
    , m_train(new TrainTab(*m_context, this))
    , m_evaluate(new EvaluateTab(*m_context, this))
    , m_collection(new QComboBox(this))
{
    setWindowTitle(tr("UniRank Studio"));
    m_tabs->addTab(m_summary, tr("Project"));
    m_tabs->addTab(m_rank, tr("Rank"));
    m_tabs->addTab(m_label, tr("Label"));
    m_tabs->addTab(m_train, tr("Train"));
    m_tabs->addTab(m_evaluate, tr("Evaluate"));
    setCentralWidget(m_tabs);
    buildMenus();

    auto *bar = addToolBar(tr("Collection"));
    bar->setObjectName(QStringLiteral("collectionBar"));
    bar->addWidget(new QLabel(tr(" Collection: "), this));
    bar->addWidget(m_collection);
    m_collection->setSizeAdjustPolicy(QComboBox::AdjustToContents);
    connect(m_collection, &QComboBox::activated, this,
            [this] { m_context->setCollection(m_collection->currentData().toLongLong()); });

    connect(m_context, &ProjectContext::historyChanged, this, &MainWindow::updateUndoActions);
    connect(m_context, &ProjectContext::errorOccurred, this, [this](const QString &m) { statusBar()->showMessage(m, 10000); });
    connect(m_context, &ProjectContext::snapshotFailed, this,
            [this](const QString &m) { statusBar()->showMessage(tr("Cannot read the collection: %1").arg(m)); });
    connect(m_context, &ProjectContext::collectionChanged, this, &MainWindow::fillCollections);
    connect(m_context, &ProjectContext::projectOpened, this, &MainWindow::fillCollections);
    connect(m_rank, &RankTab::statusMessage, this, [this](const QString &m) { statusBar()->showMessage(m, 8000); });
    connect(m_evaluate, &EvaluateTab::openQuery, this, &MainWindow::openQueryInRankTab);
    connect(m_train, &TrainTab::statusMessage, this, [this](const QString &m) { statusBar()->showMessage(m, 8000); });
    connect(m_train, &TrainTab::evaluateRequested, this, [this] {
        m_tabs->setCurrentWidget(m_evaluate);
        m_evaluate->evaluate();
    });
    updateUndoActions();
    resize(1280, 800);
}

MainWindow::~MainWindow() = default;

void MainWindow::buildMenus()
{
    auto *file = menuBar()->addMenu(tr("&File"));
    file->addAction(tr("&New Project..."), QKeySequence::New, this, [this] {
        if (!m_train->confirmStop(this))
            return;
        const auto path = QFileDialog::getSaveFileName(this, tr("New Project"), {}, tr("UniRank projects (*.unirank)"));
        if (path.isEmpty())
            return;
        const auto target = path.endsWith(QLatin1String(".unirank")) ? path : path + QStringLiteral(".unirank");
        if (const auto created = m_context->create(target); !created) {
            QMessageBox::warning(this, tr("New Project"), QString::fromStdString(created.error().message));
            return;
        }
        setWindowTitle(tr("%1 - UniRank Studio").arg(QFileInfo(target).fileName()));
        m_summary->load(target);
        updateRecentMenu();
    });
    file->addAction(tr("&Open Project..."), QKeySequence::Open, this, [this] {
        if (!m_train->confirmStop(this))
            return;
        const auto path = QFileDialog::getOpenFileName(this, tr("Open Project"), {}, tr("UniRank projects (*.unirank)"));
        if (!path.isEmpty() && !openProject(path))
            QMessageBox::warning(this, tr("Open Project"), statusBar()->currentMessage());
    });
    // Counts follow other analysts' labels as they arrive (a team project, or another process on a file).
    connect(m_context, &ProjectContext::labelsChangedElsewhere, this, [this] {
        if (m_context->isOpen())
            m_summary->load(m_context->file());
    });
    file->addAction(tr("Open &Team Project..."), this, [this] {
        if (!m_train->confirmStop(this))
            return;
        const auto url = QInputDialog::getText(this, tr("Open Team Project"),
                                               tr("The project's PostgreSQL URL (postgresql://you@server/database; a "
                                                  "password belongs in ~/.pgpass):"))
                             .trimmed();
        if (url.isEmpty())
            return;
        if (!storage::isServerLocation(url.toStdString()))
            QMessageBox::warning(this, tr("Open Team Project"), tr("A team project's address starts with postgresql://"));
        else if (!openProject(url))
            QMessageBox::warning(this, tr("Open Team Project"), statusBar()->currentMessage());
    });
    m_recent = file->addMenu(tr("Open &Recent"));
    file->addAction(tr("&Import Dataset..."), this, [this] {
        if (!m_context->isOpen()) {
            QMessageBox::information(this, tr("Import Dataset"), tr("Open or create a project first."));
            return;
        }
        const auto folder = QFileDialog::getExistingDirectory(this, tr("Dataset folder (corpus.jsonl, queries.jsonl, qrels, run.trec)"));
        if (!folder.isEmpty())
            importDataset(folder);
    });
    file->addAction(tr("&Close Project"), this, [this] {
        if (!m_train->confirmStop(this))
            return;
        m_context->close();
        setWindowTitle(tr("UniRank Studio"));
    });
    file->addSeparator();
    file->addAction(tr("&Quit"), QKeySequence::Quit, this, &QWidget::close);
    updateRecentMenu();

    auto *edit = menuBar()->addMenu(tr("&Edit"));
    m_undo = edit->addAction(tr("&Undo"), this, [this] { m_context->undo(); });
    m_undo->setShortcut(QKeySequence(Qt::CTRL | Qt::Key_Z));
    m_redo = edit->addAction(tr("&Redo"), this, [this] { m_context->redo(); });
    m_redo->setShortcut(QKeySequence(Qt::CTRL | Qt::SHIFT | Qt::Key_Z));
    edit->addSeparator();
    edit->addAction(tr("Annotator..."), this, &MainWindow::askAnnotator);

    auto *model = menuBar()->addMenu(tr("&Model"));
    model->addAction(tr("Model &Versions..."), this, [this] {
        if (!m_context->isOpen())
            return;
        ModelManagerDialog dialog(*m_context, this);
        dialog.exec();
    });
    model->addAction(tr("&Settings..."), this, [this] {
        SettingsDialog dialog(this);
        if (dialog.exec() != QDialog::Accepted)
            return;
        dialog.settings().save();
        m_context->setActiveVersion(m_context->activeVersion()); // reload with the new settings
    });

    auto *help = menuBar()->addMenu(tr("&Help"));
    help->addAction(tr("Open &Demo Project"), this, &MainWindow::openDemoProject);
    help->addAction(tr("&About UniRank Studio"), this, [this] {
        QMessageBox::about(this, tr("About UniRank Studio"),
                           tr("<b>UniRank Studio %1</b><p>Domain-specific reranking of hybrid text-image candidate lists "
                              "with a vision-language reranker (after UniRank, arXiv 2603.29897): rank, label, train and "
                              "evaluate.</p><p>GPL-3.0-or-later. The demo's clip art is public domain (Open Clip Art Library).</p>")
                               .arg(QApplication::applicationVersion()));
    });
}

void MainWindow::closeEvent(QCloseEvent *event)
{
    if (!m_train->confirmStop(this)) {
        event->ignore();
        return;
    }
    event->accept();
}

void MainWindow::openDemoProject()
{
    if (!m_train->confirmStop(this))
        return;
    const QString folder = QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation) + QStringLiteral("/demo");
    const QString file = folder + QStringLiteral("/demo.unirank");
    if (QFileInfo::exists(file)) {
        openProject(file);
        return;
    }
    QDir().mkpath(folder);
    auto *runner = new TrainingRunner(this);
    auto *progress = new QProgressDialog(tr("Building the demo project: importing the clip-art set and ranking it with the demo model..."),
                                         QString(), 0, 0, this);
    progress->setWindowModality(Qt::WindowModal);
    progress->setMinimumDuration(0);
    connect(runner, &TrainingRunner::logLine, progress, [progress](const QString &line) { progress->setLabelText(line); });
    connect(runner, &TrainingRunner::finished, this,
            [this, runner, progress, file](TrainingRunner::Outcome outcome, const QString &message) {
                progress->deleteLater();
                runner->deleteLater();
                if (outcome != TrainingRunner::Outcome::Completed) {
                    QMessageBox::warning(this, tr("Demo Project"), tr("Cannot build the demo project: %1").arg(message));
                    return;
                }
                openProject(file);
            });
    runner->start(tr("Demo project"), {QStringLiteral("demo"), file});
}

void MainWindow::updateRecentMenu()
{
    m_recent->clear();
    const auto recent = QSettings().value(QStringLiteral("recentProjects")).toStringList();
    for (const auto &path : recent)
        m_recent->addAction(path, this, [this, path] { openProject(path); });
    m_recent->setEnabled(!recent.isEmpty());
}

void MainWindow::updateUndoActions()
{
    m_undo->setEnabled(m_context->canUndo());
    m_redo->setEnabled(m_context->canRedo());
    const auto undo = m_context->canUndo() ? m_context->undoText() : QString();
    const auto redo = m_context->canRedo() ? m_context->redoText() : QString();
    m_undo->setText(undo.isEmpty() ? tr("&Undo") : tr("&Undo %1").arg(undo));
    m_redo->setText(redo.isEmpty() ? tr("&Redo") : tr("&Redo %1").arg(redo));
}

bool MainWindow::openProject(const QString &file)
{
    const bool server = storage::isServerLocation(file.toStdString());
    const auto shown = QString::fromStdString(storage::redactedLocation(file.toStdString()));
    if (!m_train->confirmStop(this)) {
        statusBar()->showMessage(tr("A training run is still going; %1 was not opened.").arg(shown));
        return false;
    }
    const auto opened = m_context->open(file);
    if (!opened) {
        statusBar()->showMessage(tr("Cannot open %1: %2").arg(shown, QString::fromStdString(opened.error().message)));
        return false;
    }
    setWindowTitle(tr("%1 - UniRank Studio").arg(server ? shown : QFileInfo(file).fileName()));
    m_summary->load(m_context->file());
    updateRecentMenu();
    if (server) {
        // On a team server an analyst labels in their login's name (the server refuses any other).
        const auto user = m_context->db().prepare("SELECT current_user").first([](const storage::Statement &s) {
            return s.columnText(0);
        });
        if (user)
            m_context->setAnnotator(QString::fromStdString(*user));
    }
    if (m_context->annotator().isEmpty())
        askAnnotator();
    return true;
}

ImportDialog *MainWindow::importDataset(const QString &folder)
{
    auto *dialog = new ImportDialog(m_context->file(), folder, this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    connect(dialog, &ImportDialog::succeeded, this, [this](const QString &summary) {
        statusBar()->showMessage(summary, 15000);
        m_context->refreshCollections();
        m_summary->load(m_context->file());
    });
    dialog->open();
    dialog->start();
    return dialog;
}

void MainWindow::fillCollections()
{
    const QSignalBlocker block(m_collection);
    m_collection->clear();
    for (const auto &c : m_context->collections())
        m_collection->addItem(QString::fromStdString(c.name), qlonglong(c.id));
    m_collection->setCurrentIndex(std::max(0, m_collection->findData(qlonglong(m_context->collectionId()))));
}

void MainWindow::askAnnotator()
{
    auto *dialog = new QInputDialog(this);
    dialog->setAttribute(Qt::WA_DeleteOnClose);
    dialog->setWindowTitle(tr("Annotator"));
    dialog->setLabelText(tr("Who is labelling? (a name without spaces; it goes with every label)"));
    dialog->setTextValue(m_context->annotator());
    connect(dialog, &QInputDialog::textValueSelected, this, [this](const QString &name) {
        if (!m_context->setAnnotator(name.trimmed()))
            statusBar()->showMessage(tr("An annotator name is 1-64 bytes without spaces."), 10000);
    });
    dialog->open();
}

void MainWindow::openQueryInRankTab(const QString &queryExtId)
{
    const auto snapshot = m_context->snapshot();
    if (!snapshot)
        return;
    for (const auto &l : snapshot->lists)
        if (QString::fromStdString(l.queryExtId) == queryExtId) {
            m_tabs->setCurrentWidget(m_rank);
            m_rank->selectQuery(l.queryId);
            return;
        }
}

} // namespace unirank::ui
