// SPDX-License-Identifier: GPL-3.0-or-later
// The GUI's access to the hybrid scorer: loads a model version (base folder plus an optional LoRA
// adapter) on a pool thread, then scores candidate lists on the scoring job's worker thread
// ("unirank-score"). The newest request wins: a new score() or cancel() stops the running one within
// one batch. Nothing of libtorch shows in this header, so widgets compile without it.
//
// Threading: create and call on the GUI thread; every signal arrives on the GUI thread (queued from
// the workers). The destructor cancels and joins. Errors: loadFailed / failed signals carry the
// message; no exception leaves a worker.
#pragma once

#include "storage/score_store.h"

#include <QFutureWatcher>
#include <QObject>

#include <memory>

namespace unirank::ui {

/// Device, dtype, threads and cache, as the Settings dialog stores them (QSettings group "scoring").
struct ScoringSettings {
    QString device = QStringLiteral("cpu");
    QString dtype = QStringLiteral("fp32");
    int threads = 0;      ///< 0: libtorch's default
    int cacheMiB = 512;   ///< image-embedding cache in memory
    int batchSize = 8;
    /// The images' pixel budget in thousands of pixels (kilopixels); 0: the default (the model folder's
    /// limits, the maximum capped at 1280 visual tokens; scoring::PixelBudget).
    int minKilopixels = 0, maxKilopixels = 0;

    static ScoringSettings load();
    void save() const;
};

struct ModelSpec {
    QString name;    ///< the model version's name, for messages
    QString folder;  ///< base model folder (config.json, *.safetensors, tokenizer.json)
    QString adapter; ///< PEFT LoRA folder merged into the base; empty for none
};

struct ScoredCandidate {
    std::int64_t candidateId = 0;
    bool ok = false;
    double margin = 0, probability = 0;
    QString error;
};

struct QueryScores {
    std::int64_t queryId = 0;
    std::vector<ScoredCandidate> candidates; ///< in the list's order
};

class ScoringService final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(ScoringService)

public:
    explicit ScoringService(QObject *parent = nullptr);
    ~ScoringService() override;

    /// Loads in the background (replacing the current model once loaded); a newer load wins.
    /// `cacheDir` keeps image embeddings on disk between sessions (empty: memory only).
    void load(const ModelSpec &spec, const ScoringSettings &settings, const QString &cacheDir = {});
    void unload();
    bool isReady() const;
    /// The images' pixel limits in effect for the loaded model ({0, 0} before one is loaded).
    std::pair<std::int64_t, std::int64_t> pixelLimits() const;
    bool isLoading() const { return m_loading; }
    const ModelSpec &spec() const { return m_spec; }

    /// Scores the lists; returns the request number (0 when no model is ready). Cancels the request
    /// running before.
    quint64 score(std::vector<storage::CandidateList> lists);
    void cancel();
    void waitIdle(); ///< blocks until the scoring worker is idle (tests, shutdown)

    /// The sha256 identity of a model or adapter folder's weights, as the CLI stores it. Reads every
    /// weight file: call from a worker. Throws InputError when the folder has no .safetensors.
    static std::string folderHash(const std::filesystem::path &folder);
    static std::string adapterHash(const std::string &baseHash, const std::filesystem::path &adapter);
    static bool cudaAvailable();

signals:
    void loaded(const QString &description);
    void loadFailed(const QString &message);
    void progress(quint64 request, int done, int total);
    void scored(quint64 request, const std::vector<unirank::ui::QueryScores> &results);
    void failed(quint64 request, const QString &message);
    void cancelled(quint64 request);

private:
    struct Engine;
    struct Loaded;
    void finishLoad();

    std::unique_ptr<Engine> m_engine; ///< the loaded model and its job
    ModelSpec m_spec;
    bool m_loading = false;
    quint64 m_loadGeneration = 0;
    QFutureWatcher<std::shared_ptr<Loaded>> m_loadWatcher;
};

} // namespace unirank::ui
