// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/ranking_loader.h"

#include "storage/browse.h"
#include "storage/repo/models.h"
#include "storage/db/database.h"
#include "ui/async_result.h"

#include <algorithm>
#include <cmath>

namespace unirank::ui {
namespace {

double sigmoid(double x)
{
    return x >= 0 ? 1.0 / (1.0 + std::exp(-x)) : std::exp(x) / (1.0 + std::exp(x));
}

} // namespace

std::optional<Ranking> RankingLoader::readRanking(storage::Database &db, std::optional<std::int64_t> version,
                                                  std::int64_t collectionId, std::int64_t queryId,
                                                  const CollectionSnapshot *snapshot)
{
    Ranking out;
    if (!version) {
        for (const auto &e : storage::firstStageQuery(db, queryId))
            out.push_back({e.candidateId, e.score, std::nullopt, {}});
        return out;
    }
    const auto run = storage::latestScoreRun(db, *version, collectionId);
    if (!run)
        return std::nullopt;
    for (const auto &e : storage::scoreRunQuery(db, *run, queryId))
        out.push_back({e.candidateId, e.score, sigmoid(e.score), {}});
    // Candidates the run could not score come last, in first-stage order.
    if (snapshot)
        if (const auto *list = snapshot->list(queryId))
            for (const auto &item : list->items)
                if (std::none_of(out.begin(), out.end(),
                                 [&](const RankedScore &s) { return s.candidateId == item.candidateId; }))
                    out.push_back({item.candidateId, 0, std::nullopt, "not in the stored score run"});
    return out;
}

quint64 RankingLoader::load(Request request)
{
    const auto id = ++m_newest;
    m_newestGrades = 0; // the load reads the grades too
    runThenDeliver(
        this,
        [id, r = std::move(request)] {
            Answer a;
            a.id = id;
            a.queryId = r.queryId;
            try { // the thread boundary
                auto db = storage::Database::open(r.file, storage::Database::Mode::ReadOnly);
                if (r.readActive)
                    a.active = readRanking(db, r.active, r.collectionId, r.queryId, r.snapshot.get());
                if (r.readCompare && r.compare != r.active)
                    a.compare = readRanking(db, r.compare, r.collectionId, r.queryId, r.snapshot.get());
                a.grades = storage::currentGrades(db, r.queryId);
            } catch (const std::exception &e) {
                a = Answer{id, r.queryId, std::nullopt, std::nullopt, {}, QString::fromUtf8(e.what())};
            }
            return a;
        },
        [this](const Answer &a) {
            if (a.id == m_newest)
                emit loaded(a);
        });
    return id;
}

void RankingLoader::loadGrades(const std::string &file, std::int64_t queryId)
{
    const auto id = ++m_newestGrades;
    const auto loadId = m_newest;
    using Grades = std::optional<std::map<std::int64_t, int>>;
    runThenDeliver(
        this,
        [file, queryId]() -> Grades {
            try {
                auto db = storage::Database::open(file, storage::Database::Mode::ReadOnly);
                return storage::currentGrades(db, queryId);
            } catch (const std::exception &) {
                return std::nullopt; // the list keeps the grades it shows
            }
        },
        [this, id, loadId, queryId](const Grades &grades) {
            if (grades && id == m_newestGrades && loadId == m_newest)
                emit gradesLoaded(queryId, *grades);
        });
}

} // namespace unirank::ui
