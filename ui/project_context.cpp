// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/project_context.h"

#include "storage/pair_claims.h"
#include "ui/async_result.h"

#include <QCryptographicHash>
#include <QFileInfo>
#include <QPointer>
#include <QRegularExpression>
#include <QSettings>

#include <utility>

namespace unirank::ui {

ProjectContext::ProjectContext(QObject *parent)
    : QObject(parent)
    , m_scoring(this)
{
    m_annotator = QSettings().value(QStringLiteral("annotator")).toString();
    if (!isValidAnnotator(m_annotator))
        m_annotator.clear();
}

ProjectContext::~ProjectContext() = default;

void ProjectContext::reloadSnapshot()
{
    m_snapshot.reset();
    if (!m_project || m_collectionId == 0)
        return;
    const auto file = m_project->file().string();
    const auto collection = m_collectionId;
    const auto generation = ++m_snapshotGeneration; // the newest load wins
    runThenDeliver(
        this, [file, collection] { return loadSnapshot(file, collection); },
        [this, generation](const Result<std::shared_ptr<const CollectionSnapshot>> &result) {
            if (generation != m_snapshotGeneration || !m_project)
                return; // superseded, or the project was closed
            if (!result) {
                emit snapshotFailed(QString::fromStdString(result.error().message));
                return;
            }
            m_snapshot = *result;
            emit snapshotReady();
        });
}

Result<void> ProjectContext::open(const QString &file)
{
    auto project = storage::Project::open(file.toStdString());
    if (!project)
        return std::unexpected(project.error());
    return adopt(std::move(*project), file);
}

Result<void> ProjectContext::create(const QString &file)
{
    auto project = storage::Project::create(file.toStdString());
    if (!project)
        return std::unexpected(project.error());
    return adopt(std::move(*project), file);
}

Result<void> ProjectContext::adopt(std::unique_ptr<storage::Project> project, const QString &file)
{
    close();
    m_file = storage::isServerLocation(file.toStdString()) ? file : QFileInfo(file).absoluteFilePath();
    m_project = std::move(project);
    if (!m_elsewhere) {
        m_elsewhere = new QTimer(this);
        m_elsewhere->setSingleShot(true);
        m_elsewhere->setInterval(1000);
        connect(m_elsewhere, &QTimer::timeout, this, &ProjectContext::labelsChangedElsewhere);
    }
    // The watcher's thread posts to the GUI thread; close() joins it before this object can go.
    m_watcher = std::make_unique<storage::LabelWatcher>(m_project->file(), [this] {
        QMetaObject::invokeMethod(
            this, [this] { if (m_project && !m_elsewhere->isActive()) m_elsewhere->start(); }, Qt::QueuedConnection);
    });
    m_labels = std::make_unique<LabelService>(m_project->file(), nullptr, m_busyTimeoutMs, m_busyAttempts);
    connect(m_labels.get(), &LabelService::done, this, &ProjectContext::onLabelReply);
    connect(m_labels.get(), &LabelService::waiting, this, &ProjectContext::labelWaiting);
    // The one catalog read on the GUI thread, at open; afterwards it is re-read on a pool thread.
    try {
        m_catalog = ProjectCatalog::read(m_project->db());
    } catch (const std::exception &e) {
        const Error error{ErrorKind::Internal, std::string("cannot read the project's catalog: ") + e.what()};
        close();
        return std::unexpected(error);
    }
    const auto &all = m_catalog.collections;
    const auto remembered = QSettings().value(settingsKey("collection")).toLongLong();
    m_collectionId = all.empty() ? 0 : all.front().id;
    for (const auto &c : all)
        if (c.id == remembered)
            m_collectionId = c.id;
    // The remembered versions, if they still exist.
    const auto find = [&](const char *key) -> std::optional<std::int64_t> {
        const auto name = QSettings().value(settingsKey(key)).toString().toStdString();
        if (name.empty())
            return std::nullopt;
        const auto *v = m_catalog.version(name);
        return v ? std::optional(v->id) : std::nullopt;
    };
    QSettings settings;
    auto recent = settings.value(QStringLiteral("recentProjects")).toStringList();
    recent.removeAll(m_file);
    if (storage::redactedLocation(m_file.toStdString()) == m_file.toStdString()) // never a password in the settings
        recent.prepend(m_file);
    while (recent.size() > 8)
        recent.removeLast();
    settings.setValue(QStringLiteral("recentProjects"), recent);
    emit projectOpened();
    reloadSnapshot();
    // A project opened for the first time shows the version scored last, so a prepared project (the
    // demo) opens on its model's ranking; "first stage" chosen by the user is remembered as such.
    setActiveVersion(settings.contains(settingsKey("activeVersion")) ? find("activeVersion") : newestScoredVersion());
    setCompareVersion(find("compareVersion"));
    emit historyChanged();
    return {};
}

std::optional<std::int64_t> ProjectContext::newestScoredVersion()
{
    std::optional<std::int64_t> best, bestRun;
    for (const auto &v : m_catalog.versions)
        if (const auto run = m_catalog.newestScoreRun(v.id, m_collectionId); run && (!bestRun || *run > *bestRun)) {
            best = v.id;
            bestRun = run;
        }
    return best;
}

void ProjectContext::close()
{
    if (!m_project)
        return;
    m_scoring.unload();
    if (m_project->onServer() && !m_annotator.isEmpty())
        (void)storage::releasePairClaims(m_project->db(), m_annotator.toStdString()); // else they expire
    m_watcher.reset(); // joins its thread: no change is posted after this
    if (m_elsewhere)
        m_elsewhere->stop();
    m_labels.reset(); // finishes every queued label write
    m_project.reset();
    m_snapshot.reset();
    ++m_snapshotGeneration;
    ++m_catalogGeneration;
    m_catalogWaiting.clear();
    m_catalog = {};
    m_collectionId = 0;
    m_active.reset();
    m_compare.reset();
    m_file.clear();
    emit projectClosed();
    emit historyChanged();
}

QString ProjectContext::settingsKey(const char *name) const
{
    // QSettings keys treat '/' as groups; a hash of the path keeps one entry per project.
    const auto id =
        QString::fromLatin1(QCryptographicHash::hash(m_file.toUtf8(), QCryptographicHash::Sha1).toHex().left(16));
    return QStringLiteral("projects/%1/%2").arg(id, QLatin1String(name));
}

void ProjectContext::setCollection(std::int64_t id)
{
    if (id == m_collectionId)
        return;
    m_collectionId = id;
    QSettings().setValue(settingsKey("collection"), qlonglong(id));
    emit collectionChanged();
    reloadSnapshot();
}

void ProjectContext::refreshCatalog(QObject *receiver, std::function<void()> then)
{
    if (!m_project)
        return;
    if (then) // every caller's continuation runs once the newest read is in, none is dropped
        m_catalogWaiting.push_back({QPointer<QObject>(receiver ? receiver : this), std::move(then)});
    const auto file = m_project->file().string();
    const auto generation = ++m_catalogGeneration; // the newest read wins
    runThenDeliver(
        this,
        [file]() -> std::optional<ProjectCatalog> {
            try {
                auto db = storage::Database::open(file, storage::Database::Mode::ReadOnly);
                return ProjectCatalog::read(db);
            } catch (const std::exception &) {
                return std::nullopt;
            }
        },
        [this, generation](const std::optional<ProjectCatalog> &catalog) {
            if (generation != m_catalogGeneration || !m_project)
                return;
            if (catalog) {
                m_catalog = *catalog;
                emit versionsChanged();
            } else {
                emit errorOccurred(tr("Cannot re-read the project's versions and collections."));
            }
            const auto waiting = std::exchange(m_catalogWaiting, {});
            for (const auto &[alive, next] : waiting)
                if (alive) // its widget may be gone
                    next();
        });
}

void ProjectContext::notifyVersionsChanged(QObject *receiver, std::function<void()> then)
{
    refreshCatalog(receiver, std::move(then));
}

void ProjectContext::refreshCollections()
{
    refreshCatalog(this, [this] {
        const auto &all = m_catalog.collections;
        if (m_collectionId == 0 && !all.empty()) {
            setCollection(all.back().id);
        } else {
            emit collectionChanged();
            reloadSnapshot();
        }
    });
}

bool ProjectContext::isValidAnnotator(const QString &name)
{
    static const QRegularExpression whitespace(QStringLiteral("\\s"));
    const auto bytes = name.toUtf8().size();
    return bytes >= 1 && bytes <= 64 && !name.contains(whitespace);
}

bool ProjectContext::setAnnotator(const QString &name)
{
    if (!isValidAnnotator(name))
        return false;
    m_annotator = name;
    QSettings().setValue(QStringLiteral("annotator"), name);
    emit annotatorChanged();
    return true;
}

QString ProjectContext::versionName(std::optional<std::int64_t> id) const
{
    if (!id)
        return tr("first stage");
    if (const auto *v = m_catalog.version(*id))
        return QString::fromStdString(v->name);
    return tr("version %1").arg(*id);
}

std::optional<ModelSpec> ProjectContext::specOf(std::int64_t versionId) const
{
    const auto it = m_catalog.folders.find(versionId);
    if (it == m_catalog.folders.end())
        return std::nullopt;
    return ModelSpec{versionName(versionId), QString::fromStdString(it->second.model),
                     QString::fromStdString(it->second.adapter)};
}

void ProjectContext::setActiveVersion(std::optional<std::int64_t> id)
{
    if (id && m_project && !m_catalog.version(*id) && !m_catalogRetried) {
        // A version written since the catalog was read (a published checkpoint): read it, then activate.
        m_catalogRetried = true;
        refreshCatalog(this, [this, id] { setActiveVersion(id); });
        return;
    }
    m_catalogRetried = false;
    m_active = id;
    if (m_project)
        QSettings().setValue(settingsKey("activeVersion"), id ? versionName(id) : QString());
    m_scoring.unload();
    if (id) {
        if (const auto spec = specOf(*id))
            m_scoring.load(*spec, ScoringSettings::load(), cacheDir());
    }
    emit activeVersionChanged();
}

void ProjectContext::setCompareVersion(std::optional<std::int64_t> id)
{
    m_compare = id;
    if (m_project)
        QSettings().setValue(settingsKey("compareVersion"), id ? versionName(id) : QString());
    emit compareVersionChanged();
}

QString ProjectContext::cacheDir() const
{
    if (!m_project)
        return {};
    return QString::fromStdString((m_project->sideFolder("cache") / "image-embeddings").string());
}

void ProjectContext::setLabelBusyPolicy(int busyTimeoutMs, int attempts)
{
    m_busyTimeoutMs = busyTimeoutMs;
    m_busyAttempts = attempts;
}

Result<quint64> ProjectContext::addGraded(std::int64_t queryId, std::int64_t candidateId, int grade)
{
    if (!m_labels)
        return std::unexpected(Error{ErrorKind::BadInput, "no project is open"});
    if (m_annotator.isEmpty())
        return std::unexpected(Error{ErrorKind::BadInput, "no annotator: set your name first"});
    const auto ticket = m_labels->addGraded({queryId, candidateId, grade, m_annotator.toStdString()});
    emit historyChanged();
    return ticket;
}

Result<quint64> ProjectContext::addPair(const storage::PairLabelWrite &label)
{
    if (!m_labels)
        return std::unexpected(Error{ErrorKind::BadInput, "no project is open"});
    if (label.source == PairSource::Human && m_annotator.isEmpty())
        return std::unexpected(Error{ErrorKind::BadInput, "no annotator: set your name first"});
    auto write = label;
    if (write.source == PairSource::Human)
        write.annotator = m_annotator.toStdString();
    const auto ticket = m_labels->addPair(std::move(write));
    emit historyChanged();
    return ticket;
}

bool ProjectContext::canUndo() const
{
    return m_labels && (m_labels->history().canUndo || m_labels->pending() > 0);
}

bool ProjectContext::canRedo() const
{
    return m_labels && m_labels->pending() == 0 && m_labels->history().canRedo;
}

QString ProjectContext::undoText() const
{
    return m_labels && m_labels->pending() == 0 ? m_labels->history().undoText : QString();
}

QString ProjectContext::redoText() const
{
    return m_labels && m_labels->pending() == 0 ? m_labels->history().redoText : QString();
}

Result<void> ProjectContext::undo()
{
    if (!canUndo())
        return std::unexpected(Error{ErrorKind::BadInput, "nothing to undo"});
    m_labels->undo();
    emit historyChanged();
    return {};
}

Result<void> ProjectContext::redo()
{
    if (!canRedo())
        return std::unexpected(Error{ErrorKind::BadInput, "nothing to redo"});
    m_labels->redo();
    emit historyChanged();
    return {};
}

void ProjectContext::onLabelReply(const LabelService::Reply &reply)
{
    const auto failure = reply.error ? QString::fromStdString(reply.error->message) : QString();
    switch (reply.op) {
    case LabelService::Op::Add:
        if (reply.error) {
            emit labelFailed(reply.ticket, reply.queryId, failure);
        } else {
            emit labelSaved(reply.ticket, reply.queryId, reply.labelId);
            emit labelsChanged(reply.queryId);
        }
        break;
    case LabelService::Op::Undo:
    case LabelService::Op::Redo:
        if (reply.error) {
            emit errorOccurred(failure);
        } else {
            if (reply.op == LabelService::Op::Undo)
                emit labelUndone(int(reply.table), reply.labelId);
            else
                emit labelRedone(int(reply.table), reply.labelId);
            emit labelsChanged(reply.queryId);
        }
        break;
    }
    emit historyChanged();
}

} // namespace unirank::ui
