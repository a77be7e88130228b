// SPDX-License-Identifier: GPL-3.0-or-later
// The open project as the tabs share it: the GUI thread's connection (small reads: one query's
// ranking, the versions), the collection shown, the annotator, the active and comparison model
// versions, the one label writer with its undo history, and the scoring service of the active
// version. Tabs hold a pointer to it and react to its signals; it owns no widget.
//
// Threading: GUI thread only. Whole-collection work (snapshots, evaluations, imports) runs on workers
// that open their own connection to file(); label writes, undo and redo run on the LabelService's
// thread and never block the GUI, even while another process holds the project's write lock.
// Errors: open/create return Result. addGraded/addPair return a ticket at once (or an error when no
// project or annotator is set); the write's outcome arrives as labelSaved or labelFailed, with
// labelWaiting while another process holds the lock. labelsChanged is emitted only for committed edits.
#pragma once

#include "core/util/error.h"
#include "storage/label_history.h"
#include "storage/label_watch.h"
#include "ui/label_service.h"
#include "storage/project.h"
#include "storage/repo/catalog.h"
#include "storage/repo/models.h"
#include "ui/collection_snapshot.h"
#include "ui/project_catalog.h"
#include "ui/scoring_service.h"

#include <QObject>
#include <QPointer>
#include <QTimer>

#include <functional>
#include <memory>
#include <optional>

namespace unirank::ui {

class ProjectContext final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ProjectContext)

public:
    explicit ProjectContext(QObject *parent = nullptr);
    ~ProjectContext() override;

    Result<void> open(const QString &file);
    Result<void> create(const QString &file);
    void close();
    bool isOpen() const { return m_project != nullptr; }
    QString file() const { return m_file; }
    storage::Database &db() { return m_project->db(); }
    storage::Project &project() { return *m_project; }

    /// The collection the tabs show (the first by default; 0 when the project has none).
    std::int64_t collectionId() const { return m_collectionId; }
    void setCollection(std::int64_t id);
    const std::vector<storage::CollectionRow> &collections() const { return m_catalog.collections; }
    /// Re-reads the catalog after an import (in the background) and then selects the newest
    /// collection when none was selected.
    void refreshCollections();
    /// Collections, versions, their folders and score runs as last read (at open, then on each change).
    const ProjectCatalog &catalog() const { return m_catalog; }

    /// The collection's lists, loaded in the background after open and on a collection change; null
    /// until snapshotReady().
    std::shared_ptr<const CollectionSnapshot> snapshot() const { return m_snapshot; }
    void reloadSnapshot();

    QString annotator() const { return m_annotator; }
    /// Names are 1-64 bytes without whitespace; returns false (and changes nothing) otherwise.
    bool setAnnotator(const QString &name);
    static bool isValidAnnotator(const QString &name);

    const std::vector<storage::ModelVersionRow> &versions() const { return m_catalog.versions; }
    /// nullopt means the first-stage list.
    std::optional<std::int64_t> activeVersion() const { return m_active; }
    std::optional<std::int64_t> compareVersion() const { return m_compare; }
    /// Also loads its model in the background; a version not yet in the catalog (just written) is
    /// activated once the catalog has been re-read.
    void setActiveVersion(std::optional<std::int64_t> id);
    void setCompareVersion(std::optional<std::int64_t> id);
    QString versionName(std::optional<std::int64_t> id) const;
    /// Base folder and adapter of a version (an adapter's base is its parent's folder).
    std::optional<ModelSpec> specOf(std::int64_t versionId) const;
    /// A version or score run was written: re-reads the catalog in the background, emits
    /// versionsChanged, then calls `then` on the GUI thread (also when the read failed; not when
    /// `receiver` is gone or the project was closed).
    void notifyVersionsChanged(QObject *receiver = nullptr, std::function<void()> then = {});

    ScoringService &scoring() { return m_scoring; }
    /// Folder beside the project for caches (image embeddings).
    QString cacheDir() const;

    // Labels, through the undo history, acknowledged asynchronously (see LabelService).
    /// The write's ticket; labelSaved/labelFailed(ticket, ...) follow.
    Result<quint64> addGraded(std::int64_t queryId, std::int64_t candidateId, int grade);
    Result<quint64> addPair(const storage::PairLabelWrite &label);
    /// True also while a write is in flight: its undo is queued behind it.
    bool canUndo() const;
    bool canRedo() const;
    QString undoText() const; ///< empty while writes are in flight
    QString redoText() const;
    /// Queues the undo/redo; labelUndone/labelRedone and labelsChanged follow once committed.
    Result<void> undo();
    Result<void> redo();
    /// Label writes, undos and redos queued and not yet committed or failed.
    int pendingLabels() const { return m_labels ? m_labels->pending() : 0; }
    /// For tests and slow shares: each write attempt waits busyTimeoutMs for another process's lock,
    /// attempts times, before labelFailed. Applies to projects opened afterwards.
    void setLabelBusyPolicy(int busyTimeoutMs, int attempts);

signals:
    void projectOpened();
    void projectClosed();
    void collectionChanged();
    void snapshotReady();
    void snapshotFailed(const QString &message);
    void versionsChanged();
    void activeVersionChanged();
    void compareVersionChanged();
    void annotatorChanged();
    /// A label was written, undone or redone for this query (committed).
    void labelsChanged(std::int64_t queryId);
    /// Labels or pair claims changed in the project, by another analyst or process (or this one):
    /// counts, the pair queue and agreement figures should be read again. At most about once a second.
    void labelsChangedElsewhere();
    void labelWaiting(quint64 ticket, std::int64_t queryId); ///< another process holds the lock; retrying
    void labelSaved(quint64 ticket, std::int64_t queryId, std::int64_t labelId);
    void labelFailed(quint64 ticket, std::int64_t queryId, const QString &message);
    void historyChanged();
    void labelUndone(int table, std::int64_t labelId);
    void labelRedone(int table, std::int64_t labelId);
    void errorOccurred(const QString &message);

private:
    Result<void> adopt(std::unique_ptr<storage::Project> project, const QString &file);
    void onLabelReply(const LabelService::Reply &reply);
    QString settingsKey(const char *name) const;
    std::optional<std::int64_t> newestScoredVersion(); ///< of the collection shown
    void refreshCatalog(QObject *receiver, std::function<void()> then);

    QString m_file;
    std::unique_ptr<storage::Project> m_project;
    std::unique_ptr<LabelService> m_labels;
    std::unique_ptr<storage::LabelWatcher> m_watcher; ///< its thread posts to m_elsewhere; stopped in close()
    QTimer *m_elsewhere = nullptr;                     ///< coalesces changes into labelsChangedElsewhere
    int m_busyTimeoutMs = 2000, m_busyAttempts = 30;
    std::int64_t m_collectionId = 0;
    QString m_annotator;
    std::optional<std::int64_t> m_active, m_compare;
    std::shared_ptr<const CollectionSnapshot> m_snapshot;
    quint64 m_snapshotGeneration = 0; ///< the newest snapshot load; older answers are dropped
    ProjectCatalog m_catalog;
    quint64 m_catalogGeneration = 0;
    std::vector<std::pair<QPointer<QObject>, std::function<void()>>> m_catalogWaiting; ///< run after the newest read
    bool m_catalogRetried = false; ///< setActiveVersion re-reads the catalog once for an unknown id
    ScoringService m_scoring;
};

} // namespace unirank::ui
