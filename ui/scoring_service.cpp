// SPDX-License-Identifier: GPL-3.0-or-later
// libtorch first: Qt's `slots` keyword macro must not be defined while its headers are read (this
// file is also kept out of the target's precompiled Qt header).
#include "core/scoring/scoring_job.h"
#include "core/util/sha256.h"

#include "ui/scoring_service.h"

#include <QMetaObject>
#include <QPointer>
#include <QSettings>
#include <QtConcurrent/QtConcurrentRun>

namespace fs = std::filesystem;

namespace unirank::ui {

ScoringSettings ScoringSettings::load()
{
    QSettings s;
    s.beginGroup(QStringLiteral("scoring"));
    ScoringSettings out;
    out.device = s.value(QStringLiteral("device"), out.device).toString();
    out.dtype = s.value(QStringLiteral("dtype"), out.dtype).toString();
    out.threads = s.value(QStringLiteral("threads"), out.threads).toInt();
    out.cacheMiB = s.value(QStringLiteral("cacheMiB"), out.cacheMiB).toInt();
    out.batchSize = s.value(QStringLiteral("batchSize"), out.batchSize).toInt();
    out.minKilopixels = s.value(QStringLiteral("minKilopixels"), out.minKilopixels).toInt();
    out.maxKilopixels = s.value(QStringLiteral("maxKilopixels"), out.maxKilopixels).toInt();
    return out;
}

void ScoringSettings::save() const
{
    QSettings s;
    s.beginGroup(QStringLiteral("scoring"));
    s.setValue(QStringLiteral("device"), device);
    s.setValue(QStringLiteral("dtype"), dtype);
    s.setValue(QStringLiteral("threads"), threads);
    s.setValue(QStringLiteral("cacheMiB"), cacheMiB);
    s.setValue(QStringLiteral("batchSize"), batchSize);
    s.setValue(QStringLiteral("minKilopixels"), minKilopixels);
    s.setValue(QStringLiteral("maxKilopixels"), maxKilopixels);
}

struct ScoringService::Loaded {
    std::shared_ptr<scoring::ScoringModel> model;
    scoring::ScorerOptions options;
    QString description, error;
    quint64 generation = 0;
};

struct ScoringService::Engine {
    std::shared_ptr<scoring::ScoringModel> model;
    scoring::ScoringJob job;
    Engine(std::shared_ptr<scoring::ScoringModel> m, scoring::ScorerOptions o) : model(m), job(std::move(m), std::move(o)) {}
};

ScoringService::ScoringService(QObject *parent) : QObject(parent)
{
    connect(&m_loadWatcher, &QFutureWatcherBase::finished, this, &ScoringService::finishLoad);
}

ScoringService::~ScoringService()
{
    m_loadWatcher.waitForFinished();
    m_engine.reset(); // cancels and joins the worker before the QObject goes
}

void ScoringService::load(const ModelSpec &spec, const ScoringSettings &settings, const QString &cacheDir)
{
    m_loading = true;
    const auto generation = ++m_loadGeneration;
    m_loadWatcher.setFuture(QtConcurrent::run([spec, settings, cacheDir, generation] {
        auto out = std::make_shared<Loaded>();
        out->generation = generation;
        try {
            model::LoadOptions options{model::parseDevice(settings.device.toStdString()),
                                       model::parseDtype(settings.dtype.toStdString()), {}};
            auto loaded = scoring::loadScoringModel(spec.folder.toStdString(), options, spec.adapter.toStdString());
            if (!loaded) {
                out->error = QString::fromStdString(loaded.error().message);
                return out;
            }
            out->model = *loaded;
            scoring::applyPixelBudget(*out->model, {std::int64_t(std::max(0, settings.minKilopixels)) * 1000,
                                                    std::int64_t(std::max(0, settings.maxKilopixels)) * 1000});
            out->options.batchSize = std::max(1, settings.batchSize);
            out->options.threads = std::max(0, settings.threads);
            const auto bytes = static_cast<std::size_t>(std::max(0, settings.cacheMiB)) << 20;
            out->options.imageCache = cacheDir.isEmpty()
                                          ? std::make_shared<scoring::EmbeddingCache>(bytes)
                                          : std::make_shared<scoring::EmbeddingCache>(bytes, cacheDir.toStdString());
            // Candidate-first templates: each candidate's prefix, beside the image embeddings (scorer.h).
            if (out->model->prompt->candidateFirst()) {
                const auto kvDir = cacheDir.isEmpty() ? std::filesystem::path() : std::filesystem::path(cacheDir.toStdString()).parent_path() / "candidate-kv";
                out->options.candidateCache = std::make_shared<scoring::EmbeddingCache>(scoring::kCandidateCacheMemory, kvDir,
                                                                                        scoring::kCandidateCacheDisk, "prefix_kv");
            }
            out->description = QStringLiteral("%1 on %2 (%3, images up to %4 pixels)")
                                   .arg(spec.name, settings.device, settings.dtype)
                                   .arg(out->model->imageConfig.maxPixels);
        } catch (const std::exception &e) { // the thread boundary
            out->error = QString::fromUtf8(e.what());
        }
        return out;
    }));
    m_spec = spec;
}

std::pair<std::int64_t, std::int64_t> ScoringService::pixelLimits() const
{
    if (!m_engine)
        return {0, 0};
    return {m_engine->model->imageConfig.minPixels, m_engine->model->imageConfig.maxPixels};
}

void ScoringService::finishLoad()
{
    const auto result = m_loadWatcher.result();
    if (!result || result->generation != m_loadGeneration)
        return; // a newer load is under way
    m_loading = false;
    if (!result->error.isEmpty()) {
        m_engine.reset();
        emit loadFailed(result->error);
        return;
    }
    m_engine = std::make_unique<Engine>(result->model, result->options);
    emit loaded(result->description);
}

void ScoringService::unload()
{
    ++m_loadGeneration;
    m_loading = false;
    m_engine.reset();
}

bool ScoringService::isReady() const { return m_engine != nullptr; }

quint64 ScoringService::score(std::vector<storage::CandidateList> lists)
{
    if (!m_engine)
        return 0;
    std::vector<scoring::ScoringQuery> queries;
    auto ids = std::make_shared<std::vector<std::pair<std::int64_t, std::vector<std::int64_t>>>>();
    for (const auto &l : lists) {
        scoring::ScoringQuery q{l.queryExtId, l.queryText, {}, l.queryImage, l.queryImageHash};
        std::vector<std::int64_t> candidates;
        for (const auto &item : l.items) {
            q.candidates.push_back({item.extId, item.text, item.image, item.imageHash});
            candidates.push_back(item.candidateId);
        }
        ids->emplace_back(l.queryId, std::move(candidates));
        queries.push_back(std::move(q));
    }
    // The callbacks run on the worker; each hops to the GUI thread, and is dropped if `this` is gone.
    QPointer<ScoringService> self(this);
    auto request = std::make_shared<quint64>(0);
    const auto post = [self](auto f) { QMetaObject::invokeMethod(self.data(), std::move(f), Qt::QueuedConnection); };
    scoring::ScoringCallbacks callbacks{
        [post, self, request](std::size_t done, std::size_t total) {
            post([self, request, done, total] {
                if (self)
                    emit self->progress(*request, int(done), int(total));
            });
        },
        [post, self, request, ids](scoring::ScoringResult r) {
            std::vector<QueryScores> out;
            for (std::size_t qi = 0; qi < r.scores.size(); ++qi) {
                QueryScores qs{(*ids)[qi].first, {}};
                for (std::size_t ci = 0; ci < r.scores[qi].size(); ++ci) {
                    const auto &s = r.scores[qi][ci];
                    qs.candidates.push_back({(*ids)[qi].second[ci], s.ok(), s.margin, s.probability,
                                             QString::fromStdString(s.error)});
                }
                out.push_back(std::move(qs));
            }
            post([self, request, out = std::move(out)] {
                if (self)
                    emit self->scored(*request, out);
            });
        },
        [post, self, request](const Error &e) {
            post([self, request, message = QString::fromStdString(e.message)] {
                if (self)
                    emit self->failed(*request, message);
            });
        },
        [post, self, request] {
            post([self, request] {
                if (self)
                    emit self->cancelled(*request);
            });
        }};
    // The request number is known only after submit; the callbacks read it on the GUI thread, after
    // this function has returned, so setting it here is safe.
    *request = m_engine->job.submit(std::move(queries), std::move(callbacks));
    return *request;
}

void ScoringService::cancel()
{
    if (m_engine)
        m_engine->job.cancel();
}

void ScoringService::waitIdle()
{
    if (m_engine)
        m_engine->job.waitIdle();
}

std::string ScoringService::folderHash(const fs::path &folder)
{
    bool any = false;
    for (const auto &e : fs::directory_iterator(folder))
        any = any || (e.is_regular_file() && e.path().extension() == ".safetensors");
    if (!any)
        throw InputError(folder.string() + ": no .safetensors weight files in this folder");
    return scoring::weightsHashOf(folder);
}

std::string ScoringService::adapterHash(const std::string &baseHash, const fs::path &adapter)
{
    return sha256Hex(baseHash + "+" + folderHash(adapter));
}

bool ScoringService::cudaAvailable() { return torch::cuda::is_available(); }

} // namespace unirank::ui
