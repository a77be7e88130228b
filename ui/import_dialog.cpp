// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/import_dialog.h"

#include <QDialogButtonBox>
#include <QLabel>
#include <QPointer>
#include <QProgressBar>
#include <QPushButton>
#include <QVBoxLayout>
#include <QtConcurrent/QtConcurrentRun>

namespace unirank::ui {

ImportDialog::ImportDialog(QString projectFile, QString datasetFolder, QWidget *parent)
    : QDialog(parent)
    , m_projectFile(std::move(projectFile))
    , m_folder(std::move(datasetFolder))
    , m_stage(new QLabel(this))
    , m_bar(new QProgressBar(this))
    , m_message(new QLabel(this))
{
    setWindowTitle(tr("Import dataset"));
    auto *layout = new QVBoxLayout(this);
    auto *what = new QLabel(tr("Importing %1").arg(m_folder), this);
    what->setTextFormat(Qt::PlainText);
    layout->addWidget(what);
    layout->addWidget(m_stage);
    layout->addWidget(m_bar);
    m_message->setWordWrap(true);
    m_message->setTextFormat(Qt::PlainText);
    m_message->setTextInteractionFlags(Qt::TextSelectableByMouse);
    layout->addWidget(m_message);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close, this);
    m_close = buttons->button(QDialogButtonBox::Close);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    layout->addWidget(buttons);
    resize(520, 180);

    connect(&m_watcher, &QFutureWatcherBase::finished, this, [this] {
        m_close->setEnabled(true);
        const auto result = m_watcher.result();
        if (!result) {
            const auto text = QString::fromStdString(result.error().message);
            m_stage->setText(tr("Import failed; the project is unchanged."));
            m_message->setStyleSheet(QStringLiteral("color: #b00020"));
            m_message->setText(text);
            emit failed(text);
            return;
        }
        const auto &s = *result;
        const auto text = tr("Imported %1: %2 queries, %3 candidates, %4 images (%5 new), %6 labels, %7 list entries.")
                              .arg(QString::fromStdString(s.collectionName))
                              .arg(s.queries)
                              .arg(s.candidates)
                              .arg(s.images)
                              .arg(s.newMediaFiles)
                              .arg(s.qrels)
                              .arg(s.runEntries);
        m_stage->setText(tr("Done."));
        m_bar->setRange(0, 1);
        m_bar->setValue(1);
        m_message->setText(text);
        emit succeeded(text);
    });
}

ImportDialog::~ImportDialog() { m_watcher.waitForFinished(); }

QString ImportDialog::message() const { return m_message->text(); }

void ImportDialog::start()
{
    m_close->setEnabled(false);
    m_stage->setText(tr("Reading and checking ..."));
    m_bar->setRange(0, 0);
    QPointer<ImportDialog> self(this);
    const auto file = m_projectFile.toStdString();
    const auto folder = m_folder.toStdString();
    m_watcher.setFuture(QtConcurrent::run([self, file, folder]() -> Result<storage::ImportSummary> {
        auto project = storage::Project::open(file);
        if (!project)
            return std::unexpected(project.error());
        storage::ImportOptions options;
        options.actor = "gui";
        options.onProgress = [self](std::string_view stage, std::size_t done, std::size_t total) {
            QMetaObject::invokeMethod(
                self.data(),
                [self, stage = QString::fromUtf8(stage.data(), qsizetype(stage.size())), done, total] {
                    if (!self)
                        return;
                    self->m_stage->setText(stage == QLatin1String("images") ? tr("Checking images ...")
                                                                           : tr("Writing the project ..."));
                    self->m_bar->setRange(0, int(total));
                    self->m_bar->setValue(int(done));
                    emit self->progressed(stage, int(done), int(total));
                },
                Qt::QueuedConnection);
        };
        return storage::importDataset(**project, folder, options);
    }));
}

} // namespace unirank::ui
