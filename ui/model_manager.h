// SPDX-License-Identifier: GPL-3.0-or-later
// The model manager: the project's model versions as a lineage tree (adapters and merged models
// under their parent), with kind, model family (Qwen2-VL, Qwen2.5-VL, Qwen3-VL, from the base's
// config.json), folder, weight hash, score runs and creation time. Adds a Hugging
// Face model folder or a PEFT LoRA adapter folder (under the selected version) after hashing its
// weights on a pool thread, the same identity `unirank-cli score` records, so the CLI and the app
// share versions. Sets the active and the comparison version.
//
// Threading: GUI thread; hashing runs on a worker. Errors: shown in the dialog and emitted as
// addFailed(message).
#pragma once

#include "ui/project_context.h"

#include <QDialog>
#include <QHash>

class QLabel;
class QTreeWidget;

namespace unirank::ui {

class ModelManagerDialog final : public QDialog {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ModelManagerDialog)

public:
    explicit ModelManagerDialog(ProjectContext &context, QWidget *parent = nullptr);
    ~ModelManagerDialog() override;

    /// Registers a base model folder (kind base) or, with a parent, an adapter folder.
    void addFolder(const QString &folder, std::optional<std::int64_t> parent = std::nullopt);
    QTreeWidget *tree() const { return m_tree; }
    static constexpr int kFamilyColumn = 2;
    std::optional<std::int64_t> selectedVersion() const;
    void refresh();

signals:
    void added(std::int64_t versionId);
    void addFailed(const QString &message);

private:
    struct Hashed {
        QString folder, error;
        std::string hash;
        std::optional<std::int64_t> parent;
        bool adapter = false;
        std::int64_t id = 0; ///< the version written
    };

    static constexpr int kColumns = 7;
    /// "Qwen3-VL" etc. for a base model folder, "?" when its config.json does not load.
    QString familyOf(const QString &folder);

    ProjectContext &m_context;
    QHash<QString, QString> m_families;
    QTreeWidget *m_tree;
    QLabel *m_status;
};

} // namespace unirank::ui
