// SPDX-License-Identifier: GPL-3.0-or-later
// Asynchronous scoring over many queries: one worker thread ("unirank-score", owned by the job, joined
// by its destructor) runs requests one at a time. Submitting a new request cancels the one running
// (latest request wins); cancel() stops it too. Cancellation is checked before every batch, so a
// request stops within one batch.
//
// A request replaced before it started is told onCancelled too. Callbacks run on the worker thread (a GUI forwards them to its own thread with a queued signal).
// Per-candidate errors are part of the result; anything thrown while scoring is caught at the thread
// boundary and reported through onFailed. Guards (inference mode) are created inside the worker.
#pragma once

#include "core/scoring/scorer.h"

#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <optional>
#include <thread>

namespace unirank::scoring {

struct ScoringResult {
    std::vector<ScoringQuery> queries;             ///< as submitted
    std::vector<std::vector<CandidateScore>> scores; ///< per query, in candidate order
    std::size_t failedCandidates = 0;
    double seconds = 0;
    CandidateFirstStats candidateStats; ///< with a candidate-first template (scorer.h)
};

struct ScoringCallbacks {
    std::function<void(std::size_t done, std::size_t total)> onProgress; ///< per query scored
    std::function<void(ScoringResult)> onFinished;
    std::function<void(const Error &)> onFailed;
    std::function<void()> onCancelled;
};

class ScoringJob {
public:
    ScoringJob(std::shared_ptr<ScoringModel> model, ScorerOptions options);
    ~ScoringJob(); ///< cancels whatever runs and joins the worker
    ScoringJob(const ScoringJob &) = delete;
    ScoringJob &operator=(const ScoringJob &) = delete;

    /// Queues a request; a request still running or waiting is cancelled. Returns its number.
    std::uint64_t submit(std::vector<ScoringQuery> queries, ScoringCallbacks callbacks);
    void cancel();
    /// Blocks until no request is running or waiting.
    void waitIdle();

private:
    struct Request {
        std::uint64_t id = 0;
        std::vector<ScoringQuery> queries;
        ScoringCallbacks callbacks;
    };
    void run(std::stop_token stop);
    void execute(Request &request);

    std::shared_ptr<ScoringModel> m_model;
    ScorerOptions m_options;
    std::mutex m_lock;
    std::condition_variable_any m_wake;
    std::optional<Request> m_pending;
    std::vector<ScoringCallbacks> m_dropped; ///< replaced before they started; told onCancelled by the worker
    std::uint64_t m_latest = 0;  ///< id of the newest request; older ones are cancelled
    bool m_busy = false;
    std::jthread m_worker;       ///< last member: started after the rest is ready
};

} // namespace unirank::scoring
