// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/rank_tab.h"

#include "storage/repo/judgements.h"
#include "ui/candidate_view.h"
#include "ui/query_list_model.h"
#include "ui/ranked_list_view.h"
#include "ui/thumbnail_cache.h"
#include "ui/version_bar.h"

#include <QComboBox>
#include <QHeaderView>
#include <QKeyEvent>
#include <QLabel>
#include <QSplitter>
#include <QTableView>
#include <QVBoxLayout>

#include <QtConcurrent/QtConcurrentRun>
#include <algorithm>

#include <cmath>

namespace unirank::ui {
namespace {

/// The start of a candidate's text, enough for three wrapped lines at any width the view takes, cut at
/// a character boundary (never inside a UTF-8 sequence).
std::string snippetOf(const std::string &text)
{
    constexpr std::size_t kBytes = 480;
    if (text.size() <= kBytes)
        return text;
    std::size_t end = kBytes;
    while (end > 0 && (static_cast<unsigned char>(text[end]) & 0xC0) == 0x80)
        --end;
    return text.substr(0, end) + "\u2026";
}

} // namespace

RankTab::RankTab(ProjectContext &context, QWidget *parent)
    : QWidget(parent)
    , m_context(context)
    , m_queries(new QueryListPanel(context, this))
    , m_rankedModel(new RankedListModel(this))
    , m_thumbnails(new ThumbnailCache(48, this))
    , m_ranked(new RankedListView(m_rankedModel, m_thumbnails, this))
    , m_detail(new CandidateView(this))
    , m_versions(new VersionBar(context, this))
    , m_queryHeader(new QLabel(this))
    , m_status(new QLabel(this))
    , m_loader(new RankingLoader(this))
{
    connect(m_queries, &QueryListPanel::querySelected, this, [this](std::int64_t id) {
        if (id != m_query) {
            m_query = id;
            refreshRanking();
        }
    });

    m_ranked->setToolTip(tr("Keys 0-3: graded label. Drag a candidate onto another: it is better."));
    m_ranked->installEventFilter(this);
    connect(m_ranked->selectionModel(), &QItemSelectionModel::currentRowChanged, this, &RankTab::showDetail);
    connect(m_rankedModel, &QAbstractItemModel::modelReset, this, &RankTab::showDetail);
    connect(m_rankedModel, &RankedListModel::preferenceDropped, this, [this](std::int64_t better, std::int64_t worse) {
        const storage::PairLabelWrite label{
            m_query, better, worse, PairOutcome::Left, {}, PairSource::Human, false, "rank-tab drag"};
        const auto ticket = m_context.addPair(label);
        if (!ticket) {
            setStatus(tr("Could not record the preference: %1").arg(QString::fromStdString(ticket.error().message)));
            return;
        }
        m_saving[*ticket] = tr("Recorded: candidate %1 better than %2").arg(better).arg(worse);
        setStatus(tr("Saving: candidate %1 better than %2 ...").arg(better).arg(worse));
    });

    m_queryHeader->setWordWrap(true);
    m_queryHeader->setTextFormat(Qt::PlainText);
    m_status->setTextFormat(Qt::PlainText);
    m_detail->setTitle(tr("Detail"));


    auto *middle = new QWidget(this);
    auto *middleLayout = new QVBoxLayout(middle);
    middleLayout->setContentsMargins(0, 0, 0, 0);
    middleLayout->addWidget(m_queryHeader);
    middleLayout->addWidget(m_ranked);
    auto *split = new QSplitter(this);
    split->addWidget(m_queries);
    split->addWidget(middle);
    split->addWidget(m_detail);
    split->setStretchFactor(0, 2);
    split->setStretchFactor(1, 4);
    split->setStretchFactor(2, 2);
    split->setSizes({400, 580, 280});
    auto *layout = new QVBoxLayout(this);
    layout->addWidget(m_versions);
    layout->addWidget(split, 1);
    layout->addWidget(m_status);

    connect(m_versions, &VersionBar::scoreAllClicked, this, &RankTab::scoreAll);

    connect(&m_context, &ProjectContext::projectClosed, this, [this] {
        m_queries->setQueries(nullptr);
        m_rankedModel->clear();
        m_cache.clear();
        m_query = 0;
    });
    connect(&m_context, &ProjectContext::snapshotReady, this, &RankTab::rebuildQueries);
    connect(&m_context, &ProjectContext::activeVersionChanged, this, [this] {
        m_queries->refreshStatus();
        refreshRanking();
    });
    connect(&m_context, &ProjectContext::compareVersionChanged, this, &RankTab::refreshRanking);
    connect(&m_context, &ProjectContext::labelsChanged, this, [this](std::int64_t queryId) {
        if (queryId == m_query && m_context.isOpen())
            m_loader->loadGrades(m_context.project().file().string(), m_query);
        m_queries->refreshStatus();
    });
    connect(&m_context, &ProjectContext::labelsChangedElsewhere, this, [this] { // another analyst's grades
        if (m_query && m_context.isOpen())
            m_loader->loadGrades(m_context.project().file().string(), m_query);
        m_queries->refreshStatus();
    });
    connect(m_loader, &RankingLoader::loaded, this, &RankTab::onLoaded);
    connect(m_loader, &RankingLoader::gradesLoaded, this,
            [this](std::int64_t queryId, const std::map<std::int64_t, int> &grades) {
                if (queryId != m_query)
                    return;
                m_grades = grades;
                for (int row = 0; row < m_rankedModel->rowCount(); ++row) {
                    const auto id = m_rankedModel->rowAt(row)->candidateId;
                    const auto g = grades.find(id);
                    m_rankedModel->setGrade(id, g == grades.end() ? -1 : g->second);
                }
            });

    connect(&m_context, &ProjectContext::labelSaved, this, [this](quint64 ticket) {
        if (const auto it = m_saving.find(ticket); it != m_saving.end()) {
            setStatus(it->second);
            m_saving.erase(it);
        }
    });
    connect(&m_context, &ProjectContext::labelWaiting, this, [this](quint64 ticket) {
        if (m_saving.contains(ticket))
            setStatus(tr("Saving ... the project is in use by another process; waiting for it."));
    });
    connect(&m_context, &ProjectContext::labelFailed, this,
            [this](quint64 ticket, std::int64_t, const QString &message) {
                if (m_saving.erase(ticket) > 0)
                    setStatus(tr("Could not save the label: %1").arg(message));
            });

    auto &scoring = m_context.scoring();
    connect(&scoring, &ScoringService::loaded, this, [this](const QString &what) {
        setStatus(tr("Model ready: %1").arg(what));
        refreshRanking();
    });
    connect(&scoring, &ScoringService::loadFailed, this,
            [this](const QString &message) { setStatus(tr("Cannot load the model: %1").arg(message)); });
    connect(&scoring, &ScoringService::scored, this, &RankTab::onScored);
    connect(&scoring, &ScoringService::progress, this, [this](quint64 request, int done, int total) {
        if (request == m_scoreAllRequest)
            m_versions->showProgress(done, total);
    });
    connect(&scoring, &ScoringService::failed, this, [this](quint64 request, const QString &message) {
        setStatus(tr("Scoring failed: %1").arg(message));
        if (request == m_scoreAllRequest) {
            m_versions->hideProgress();
            emit scoreAllFinished(false);
        }
    });
    connect(&scoring, &ScoringService::cancelled, this, [this](quint64 request) {
        if (request == m_scoreAllRequest) {
            m_versions->hideProgress();
            setStatus(tr("Scoring all queries was cancelled."));
            emit scoreAllFinished(false);
        }
    });

    connect(&m_storeWatcher, &QFutureWatcherBase::finished, this, [this] {
        const auto error = m_storeWatcher.result();
        m_versions->hideProgress();
        setStatus(error.isEmpty() ? tr("Score run stored.") : tr("Could not store the score run: %1").arg(error));
        m_queries->refreshStatus();
        m_context.notifyVersionsChanged(this, [this, ok = error.isEmpty()] { emit scoreAllFinished(ok); });
    });
}

RankTab::~RankTab()
{
    m_storeWatcher.waitForFinished();
}

QString RankTab::statusText() const
{
    return m_status->text();
}

void RankTab::setStatus(const QString &text)
{
    m_status->setText(text);
    emit statusMessage(text);
}

QComboBox *RankTab::activeCombo() const
{
    return m_versions->activeCombo();
}

QComboBox *RankTab::compareCombo() const
{
    return m_versions->compareCombo();
}

void RankTab::rebuildQueries()
{
    const auto snapshot = m_context.snapshot();
    m_queries->setQueries(snapshot.get());
    m_cache.clear();
    m_queries->refreshStatus();
    if (m_queries->contains(m_query))
        selectQuery(m_query);
    else
        m_queries->selectFirst();
}

void RankTab::selectQuery(std::int64_t queryId)
{
    if (!m_queries->select(queryId)) // querySelected() shows it when the current row changes
        return;
    if (m_query != queryId) {
        m_query = queryId;
        refreshRanking();
    }
}

const Ranking *RankTab::cached(std::optional<std::int64_t> version, std::int64_t queryId) const
{
    if (!version)
        return nullptr;
    const auto it = m_cache.find({*version, queryId});
    return it == m_cache.end() ? nullptr : &it->second;
}

void RankTab::refreshRanking()
{
    const auto snapshot = m_context.snapshot();
    if (!m_context.isOpen() || !snapshot || !snapshot->list(m_query)) {
        m_rankedModel->clear();
        m_queryHeader->clear();
        return;
    }
    const auto *list = snapshot->list(m_query);
    m_queryHeader->setText(
        tr("%1: %2").arg(QString::fromStdString(list->queryExtId), QString::fromStdString(list->queryText)));
    // The stored rankings and the grades are read off the GUI thread; onLoaded() shows them.
    const auto active = m_context.activeVersion(), compare = m_context.compareVersion();
    RankingLoader::Request request{m_context.project().file().string(),
                                   m_context.collectionId(),
                                   m_query,
                                   active,
                                   compare,
                                   cached(active, m_query) == nullptr,
                                   cached(compare, m_query) == nullptr,
                                   snapshot};
    m_loader->load(std::move(request));
}

void RankTab::onLoaded(const RankingLoader::Answer &answer)
{
    const auto snapshot = m_context.snapshot();
    if (answer.queryId != m_query || !m_context.isOpen() || !snapshot || !snapshot->list(m_query))
        return;
    if (!answer.error.isEmpty()) {
        setStatus(tr("Cannot read the ranking: %1").arg(answer.error));
        return;
    }
    m_grades = answer.grades;
    m_compareRanking.reset();
    if (const auto *c = cached(m_context.compareVersion(), m_query))
        m_compareRanking = *c;
    else if (m_context.compareVersion() == m_context.activeVersion())
        m_compareRanking.reset();
    else
        m_compareRanking = answer.compare;
    const auto active = m_context.activeVersion();
    const auto *mine = cached(active, m_query);
    if (const auto ranking = mine ? std::optional<Ranking>(*mine) : answer.active) {
        if (m_request != 0) {
            m_context.scoring().cancel(); // the old request is not wanted any more
            m_request = 0;
        }
        showRows(*ranking);
        setStatus(tr("%1 candidates ranked by %2").arg(ranking->size()).arg(m_context.versionName(active)));
        emit rankingShown(m_query);
        return;
    }
    m_rankedModel->clear();
    const auto *list = snapshot->list(m_query);
    auto &scoring = m_context.scoring();
    if (scoring.isReady() && m_scoreAllRequest != 0) {
        setStatus(tr("Scoring every query; this one is shown when that finishes."));
    } else if (scoring.isReady()) {
        m_request = scoring.score({*list});
        setStatus(tr("Scoring %1 candidates with %2 ...").arg(list->items.size()).arg(m_context.versionName(active)));
        emit scoringStarted(m_query);
    } else if (scoring.isLoading()) {
        setStatus(tr("Loading %1 ...").arg(m_context.versionName(active)));
    } else {
        setStatus(tr("%1 has no score run here and its model could not be loaded.").arg(m_context.versionName(active)));
    }
}

void RankTab::onScored(quint64 request, const std::vector<QueryScores> &results)
{
    const auto active = m_context.activeVersion();
    if (!active)
        return;
    for (const auto &q : results) {
        Ranking ranking;
        for (const auto &c : q.candidates)
            ranking.push_back({c.candidateId, c.ok ? c.margin : 0, c.ok ? std::optional(c.probability) : std::nullopt,
                               c.ok ? std::string() : c.error.toStdString()});
        std::stable_sort(ranking.begin(), ranking.end(), [](const RankedScore &a, const RankedScore &b) {
            if (a.error.empty() != b.error.empty())
                return a.error.empty();
            return a.error.empty() && a.score > b.score;
        });
        m_cache[{*active, q.queryId}] = std::move(ranking);
    }
    if (request == m_scoreAllRequest) {
        m_scoreAllRequest = 0;
        std::vector<storage::ScoredItem> items;
        std::size_t failed = 0;
        for (const auto &q : results)
            for (const auto &c : q.candidates) {
                if (c.ok)
                    items.push_back({q.queryId, c.candidateId, c.margin});
                else
                    ++failed;
            }
        const auto file = m_context.project().file().string();
        const auto collection = m_context.collectionId();
        const auto version = *active;
        const auto settings = ScoringSettings::load();
        const nlohmann::json params{{"score", "label logit margin"},
                                    {"source", "gui"},
                                    {"device", settings.device.toStdString()},
                                    {"dtype", settings.dtype.toStdString()},
                                    {"batch_size", settings.batchSize},
                                    {"failed_candidates", failed},
                                    {"min_pixels", m_context.scoring().pixelLimits().first},
                                    {"max_pixels", m_context.scoring().pixelLimits().second}};
        setStatus(tr("Storing the score run ..."));
        m_storeWatcher.setFuture(QtConcurrent::run([file, collection, version, params, items]() -> QString {
            try {
                auto db = storage::Database::open(file, storage::Database::Mode::ReadWrite);
                storage::storeScoreRun(db, version, collection, params, items);
                return {};
            } catch (const std::exception &e) {
                return QString::fromUtf8(e.what());
            }
        }));
    }
    if (request == m_request || m_cache.contains({*active, m_query})) {
        m_request = 0;
        if (const auto it = m_cache.find({*active, m_query}); it != m_cache.end()) {
            showRows(it->second);
            setStatus(tr("%1 candidates scored by %2").arg(it->second.size()).arg(m_context.versionName(active)));
            emit rankingShown(m_query);
        }
    }
}

void RankTab::showRows(const Ranking &ranking)
{
    const auto snapshot = m_context.snapshot();
    const auto &grades = m_grades;
    std::map<std::int64_t, int> compareRank;
    if (m_compareRanking)
        for (std::size_t i = 0; i < m_compareRanking->size(); ++i)
            compareRank[(*m_compareRanking)[i].candidateId] = int(i) + 1;
    std::vector<RankedRow> rows;
    for (std::size_t i = 0; i < ranking.size(); ++i) {
        const auto &s = ranking[i];
        RankedRow row;
        row.candidateId = s.candidateId;
        row.modality = snapshot->modalityOf(s.candidateId);
        if (const auto *item = snapshot->item(m_query, s.candidateId)) {
            row.extId = item->extId;
            row.snippet = snippetOf(item->text);
            row.image = item->image;
        }
        row.score = s.score;
        row.probability = s.probability;
        row.error = s.error;
        const auto g = grades.find(s.candidateId);
        row.grade = g == grades.end() ? -1 : g->second;
        if (const auto r = compareRank.find(s.candidateId); r != compareRank.end())
            row.rankChange = r->second - (int(i) + 1);
        rows.push_back(std::move(row));
    }
    m_rankedModel->setRows(std::move(rows));
    if (m_rankedModel->rowCount() > 0)
        m_ranked->setCurrentIndex(m_rankedModel->index(0, 0));
}

void RankTab::showDetail()
{
    const auto *row = m_rankedModel->rowAt(m_ranked->currentIndex().row());
    const auto snapshot = m_context.snapshot();
    if (!row || !snapshot) {
        m_detail->clear();
        return;
    }
    const auto *item = snapshot->item(m_query, row->candidateId);
    m_detail->setTitle(
        tr("%1 (%2)").arg(QString::fromStdString(row->extId), QString::fromUtf8(toString(row->modality).data())));
    m_detail->show(QString::fromStdString(row->extId), item ? QString::fromStdString(item->text) : QString(),
                   QString::fromStdString(row->image.string()));
}

void RankTab::gradeCurrent(int grade)
{
    const auto *row = m_rankedModel->rowAt(m_ranked->currentIndex().row());
    if (!row)
        return;
    const auto ticket = m_context.addGraded(m_query, row->candidateId, grade);
    if (!ticket) {
        setStatus(tr("Could not save the label: %1").arg(QString::fromStdString(ticket.error().message)));
        return;
    }
    m_saving[*ticket] = tr("Saved: grade %1 for %2").arg(grade).arg(QString::fromStdString(row->extId));
    setStatus(tr("Saving: grade %1 for %2 ...").arg(grade).arg(QString::fromStdString(row->extId)));
}

bool RankTab::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == m_ranked && event->type() == QEvent::KeyPress) {
        const auto *key = static_cast<QKeyEvent *>(event);
        if (key->modifiers() == Qt::NoModifier || key->modifiers() == Qt::KeypadModifier) {
            if (key->key() >= Qt::Key_0 && key->key() <= Qt::Key_3) {
                gradeCurrent(key->key() - Qt::Key_0);
                return true;
            }
        }
    }
    return QWidget::eventFilter(watched, event);
}

void RankTab::scoreAll()
{
    const auto snapshot = m_context.snapshot();
    auto &scoring = m_context.scoring();
    if (!snapshot || !m_context.activeVersion()) {
        setStatus(tr("Choose a model version to score with."));
        return;
    }
    if (!scoring.isReady()) {
        setStatus(tr("The model is not loaded yet."));
        return;
    }
    m_request = 0;
    m_scoreAllRequest = scoring.score(snapshot->lists);
    m_versions->showProgress(0, int(snapshot->lists.size()));
    setStatus(tr("Scoring %1 queries with %2 ...")
                  .arg(snapshot->lists.size())
                  .arg(m_context.versionName(m_context.activeVersion())));
}

} // namespace unirank::ui
