// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/model_manager.h"

#include "core/model/config.h"
#include "storage/score_store.h"
#include "ui/async_result.h"

#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFileInfo>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QLabel>
#include <QPushButton>
#include <QTreeWidget>
#include <QVBoxLayout>

#include <map>

namespace unirank::ui {

ModelManagerDialog::ModelManagerDialog(ProjectContext &context, QWidget *parent)
    : QDialog(parent)
    , m_context(context)
    , m_tree(new QTreeWidget(this))
    , m_status(new QLabel(this))
{
    setWindowTitle(tr("Model versions"));
    m_tree->setColumnCount(kColumns);
    m_tree->setHeaderLabels({tr("Version"), tr("Kind"), tr("Family"), tr("Score runs"), tr("Weights"), tr("Created"), tr("Folder")});
    m_tree->header()->setSectionResizeMode(kColumns - 1, QHeaderView::Stretch);
    m_status->setWordWrap(true);
    m_status->setTextFormat(Qt::PlainText);
    auto *addModel = new QPushButton(tr("Add model folder..."), this);
    auto *addAdapter = new QPushButton(tr("Add adapter..."), this);
    auto *makeActive = new QPushButton(tr("Use as active"), this);
    auto *makeCompare = new QPushButton(tr("Compare with"), this);
    auto *buttons = new QHBoxLayout;
    for (auto *b : {addModel, addAdapter, makeActive, makeCompare})
        buttons->addWidget(b);
    buttons->addStretch(1);
    auto *close = new QDialogButtonBox(QDialogButtonBox::Close, this);
    connect(close, &QDialogButtonBox::rejected, this, &QDialog::reject);
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_tree, 1);
    layout->addLayout(buttons);
    layout->addWidget(m_status);
    layout->addWidget(close);
    resize(900, 420);

    connect(addModel, &QPushButton::clicked, this, [this] {
        const auto folder = QFileDialog::getExistingDirectory(this, tr("Hugging Face model folder (config.json, *.safetensors)"));
        if (!folder.isEmpty())
            addFolder(folder);
    });
    connect(addAdapter, &QPushButton::clicked, this, [this] {
        const auto parentVersion = selectedVersion();
        if (!parentVersion) {
            m_status->setText(tr("Select the version the adapter was trained on first."));
            return;
        }
        const auto folder = QFileDialog::getExistingDirectory(this, tr("PEFT LoRA adapter folder (adapter_config.json)"));
        if (!folder.isEmpty())
            addFolder(folder, parentVersion);
    });
    connect(makeActive, &QPushButton::clicked, this, [this] {
        if (const auto v = selectedVersion())
            m_context.setActiveVersion(v);
        refresh();
    });
    connect(makeCompare, &QPushButton::clicked, this, [this] {
        if (const auto v = selectedVersion())
            m_context.setCompareVersion(v);
        refresh();
    });
    connect(&m_context, &ProjectContext::versionsChanged, this, &ModelManagerDialog::refresh);
    refresh();
}

ModelManagerDialog::~ModelManagerDialog() = default;

QString ModelManagerDialog::familyOf(const QString &folder)
{
    // config.json is a few KB; read once per folder and dialog.
    if (const auto it = m_families.constFind(folder); it != m_families.constEnd())
        return *it;
    const auto config = model::Qwen2VLConfig::load(std::filesystem::path(folder.toStdString()) / "config.json");
    const auto family = config ? QString::fromUtf8(model::familyDisplayName(config->family()).data()) : tr("?");
    m_families.insert(folder, family);
    return family;
}

std::optional<std::int64_t> ModelManagerDialog::selectedVersion() const
{
    const auto *item = m_tree->currentItem();
    return item ? std::optional<std::int64_t>(item->data(0, Qt::UserRole).toLongLong()) : std::nullopt;
}

void ModelManagerDialog::refresh()
{
    m_tree->clear();
    if (!m_context.isOpen())
        return;
    std::map<std::int64_t, QTreeWidgetItem *> items;
    const auto &catalog = m_context.catalog();
    for (const auto &v : catalog.versions) { // parents come before children (ids grow)
        const auto counted = catalog.scoreRunCounts.find(v.id);
        const auto runs = counted == catalog.scoreRunCounts.end() ? 0 : counted->second;
        QString name = QString::fromStdString(v.name);
        if (m_context.activeVersion() == v.id)
            name += tr("  [active]");
        if (m_context.compareVersion() == v.id)
            name += tr("  [compare]");
        // Adapters and merged models are of their base's family.
        const auto parent = v.parentId ? items.find(*v.parentId) : items.end();
        const auto family = parent != items.end() ? parent->second->text(kFamilyColumn) : familyOf(QString::fromStdString(v.path));
        const QStringList columns{name,
                                  QString::fromUtf8(toString(v.kind).data()),
                                  family,
                                  QString::number(runs),
                                  QString::fromStdString(v.contentHash.substr(0, 12)),
                                  QString::fromStdString(v.createdAt),
                                  QString::fromStdString(v.path)};
        auto *item = parent != items.end() ? new QTreeWidgetItem(parent->second, columns) : new QTreeWidgetItem(m_tree, columns);
        item->setData(0, Qt::UserRole, qlonglong(v.id));
        item->setToolTip(kFamilyColumn + 2, QString::fromStdString(v.contentHash));
        items[v.id] = item;
    }
    m_tree->expandAll();
    m_tree->resizeColumnToContents(0);
}

void ModelManagerDialog::addFolder(const QString &folder, std::optional<std::int64_t> parent)
{
    const QDir dir(folder);
    const bool adapter = parent.has_value();
    const auto required = adapter ? QStringLiteral("adapter_config.json") : QStringLiteral("config.json");
    if (!dir.exists(required)) {
        const auto message = tr("%1 has no %2: not a %3 folder")
                                  .arg(folder, required, adapter ? tr("PEFT adapter") : tr("Hugging Face model"));
        m_status->setText(message);
        emit addFailed(message);
        return;
    }
    std::string parentHash;
    if (adapter)
        for (const auto &v : m_context.versions())
            if (v.id == *parent)
                parentHash = v.contentHash;
    m_status->setText(tr("Hashing the weights of %1 ...").arg(folder));
    // Hashing reads every weight file and the version is written with the task's own connection: both
    // off the GUI thread. Several adds may run at once; each answers for itself.
    const auto file = m_context.project().file().string();
    runThenDeliver(
        this,
        [file, folder, parent, adapter, parentHash] {
            Hashed h{folder, {}, {}, parent, adapter, 0};
            try {
                const auto path = folder.toStdString();
                h.hash = adapter ? ScoringService::adapterHash(parentHash, path) : ScoringService::folderHash(path);
                auto db = storage::Database::open(file, storage::Database::Mode::ReadWrite);
                h.id = storage::ensureModelVersion(db, QFileInfo(folder).fileName().toStdString(),
                                                   adapter ? storage::ModelKind::Adapter : storage::ModelKind::Base,
                                                   QFileInfo(folder).absoluteFilePath().toStdString(), h.hash, parent);
            } catch (const std::exception &e) {
                h.error = QString::fromUtf8(e.what());
            }
            return h;
        },
        [this](const Hashed &h) {
            if (!h.error.isEmpty()) {
                m_status->setText(h.error);
                emit addFailed(h.error);
                return;
            }
            m_status->setText(tr("Added %1.").arg(h.folder));
            const auto id = h.id;
            m_context.notifyVersionsChanged(this, [this, id] { emit added(id); }); // refresh() follows versionsChanged
        });
}

} // namespace unirank::ui
