// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/scoring/scoring_job.h"

#include <chrono>
#include <pthread.h>

namespace unirank::scoring {

ScoringJob::ScoringJob(std::shared_ptr<ScoringModel> model, ScorerOptions options)
    : m_model(std::move(model)), m_options(std::move(options)),
      m_worker([this](std::stop_token stop) { run(stop); })
{
}

ScoringJob::~ScoringJob()
{
    {
        std::lock_guard lock(m_lock);
        ++m_latest; // cancels the running request
        m_pending.reset();
    }
    m_worker.request_stop();
    m_wake.notify_all();
}

std::uint64_t ScoringJob::submit(std::vector<ScoringQuery> queries, ScoringCallbacks callbacks)
{
    std::lock_guard lock(m_lock);
    const auto id = ++m_latest;
    if (m_pending)
        m_dropped.push_back(std::move(m_pending->callbacks));
    m_pending = Request{id, std::move(queries), std::move(callbacks)};
    m_wake.notify_all();
    return id;
}

void ScoringJob::cancel()
{
    std::lock_guard lock(m_lock);
    ++m_latest;
    if (m_pending)
        m_dropped.push_back(std::move(m_pending->callbacks));
    m_pending.reset();
    m_wake.notify_all();
}

void ScoringJob::waitIdle()
{
    std::unique_lock lock(m_lock);
    m_wake.wait(lock, [this] { return !m_busy && !m_pending && m_dropped.empty(); });
}

void ScoringJob::run(std::stop_token stop)
{
    pthread_setname_np(pthread_self(), "unirank-score");
    // Intra-op threads are a per-thread setting (OpenMP): set them on this worker, where the work runs.
    if (m_options.threads > 0)
        at::set_num_threads(m_options.threads);
    while (true) {
        Request request;
        std::vector<ScoringCallbacks> dropped;
        {
            std::unique_lock lock(m_lock);
            m_wake.wait(lock, stop, [this] { return m_pending.has_value() || !m_dropped.empty(); });
            if (stop.stop_requested())
                return;
            dropped.swap(m_dropped);
            if (m_pending) {
                request = std::move(*m_pending);
                m_pending.reset();
            }
            m_busy = true;
        }
        for (const auto &cb : dropped)
            if (cb.onCancelled)
                cb.onCancelled();
        if (request.id != 0)
            execute(request);
        {
            std::lock_guard lock(m_lock);
            m_busy = false;
        }
        m_wake.notify_all();
    }
}

void ScoringJob::execute(Request &request)
{
    const auto isCancelled = [this, id = request.id] {
        std::lock_guard lock(m_lock);
        return m_latest != id;
    };
    const auto start = std::chrono::steady_clock::now();
    try {
        Scorer scorer(m_model, m_options);
        ScoringResult result;
        // Query by query, or candidate by candidate with a candidate-first template (scorer.h).
        result.scores = scorer.scoreQueries(request.queries, isCancelled, request.callbacks.onProgress);
        result.candidateStats = scorer.lastCandidateFirstStats();
        for (const auto &list : result.scores)
            for (const auto &s : list)
                result.failedCandidates += s.ok() ? 0 : 1;
        if (isCancelled())
            throw Cancelled();
        result.queries = std::move(request.queries);
        result.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
        if (request.callbacks.onFinished)
            request.callbacks.onFinished(std::move(result));
    } catch (const Cancelled &) {
        if (request.callbacks.onCancelled)
            request.callbacks.onCancelled();
    } catch (const InputError &e) {
        if (request.callbacks.onFailed)
            request.callbacks.onFailed({ErrorKind::BadInput, e.what()});
    } catch (const std::exception &e) {
        if (request.callbacks.onFailed)
            request.callbacks.onFailed({ErrorKind::Internal, e.what()});
    } catch (...) {
        if (request.callbacks.onFailed)
            request.callbacks.onFailed({ErrorKind::Internal, "unknown error while scoring"});
    }
}

} // namespace unirank::scoring
