// SPDX-License-Identifier: GPL-3.0-or-later
// Imports a dataset folder into the open project with a progress bar: storage::importDataset runs on
// a pool thread with its own connection (all or nothing), progress arrives queued on the GUI thread,
// and a bad dataset leaves the project unchanged and shows the importer's message (file, line, field)
// in the dialog.
//
// Threading: GUI thread; the destructor waits for a running import. Errors: shown and emitted as
// failed(message).
#pragma once

#include "core/util/error.h"
#include "storage/dataset_import.h"

#include <QDialog>
#include <QFutureWatcher>

class QLabel;
class QProgressBar;
class QPushButton;

namespace unirank::ui {

class ImportDialog final : public QDialog {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ImportDialog)

public:
    ImportDialog(QString projectFile, QString datasetFolder, QWidget *parent = nullptr);
    ~ImportDialog() override;

    void start();
    bool isRunning() const { return m_watcher.isRunning(); }
    QString message() const;
    QProgressBar *progressBar() const { return m_bar; }

signals:
    void progressed(const QString &stage, int done, int total);
    void succeeded(const QString &summary);
    void failed(const QString &message);

private:
    QString m_projectFile, m_folder;
    QLabel *m_stage;
    QProgressBar *m_bar;
    QLabel *m_message;
    QPushButton *m_close;
    QFutureWatcher<Result<storage::ImportSummary>> m_watcher;
};

} // namespace unirank::ui
