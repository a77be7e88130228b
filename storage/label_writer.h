// SPDX-License-Identifier: GPL-3.0-or-later
// The one writer of labels for a process: a named thread with its own connection that drains a queue
// of label writes and commits them in batched transactions (synchronous=FULL, WAL).
//
//   LabelWriter writer(projectFile);
//   auto ack = writer.addPair({...});          // returns at once
//   Result<std::int64_t> id = ack.get();       // ready once the label's transaction has committed
//
// A future becomes ready only after COMMIT returned, so a label whose write was acknowledged survives a
// killed process (tests/storage/test_crash_safety). Each write runs in its own savepoint: a bad write
// (unknown candidate, grade out of range) fails alone with BadInput and the rest of its batch commits.
//
// Threading: submit from any thread. The destructor finishes every queued write, then joins.
// Errors: never thrown across the thread boundary; they arrive in the futures.
#pragma once

#include "core/util/error.h"
#include "storage/repo/judgements.h"

#include <condition_variable>
#include <deque>
#include <filesystem>
#include <functional>
#include <future>
#include <mutex>
#include <thread>

namespace unirank::storage {

struct GradedLabelWrite {
    std::int64_t queryId = 0;
    std::int64_t candidateId = 0;
    int grade = 0;
    std::string annotator;
};

struct PairLabelWrite {
    std::int64_t queryId = 0;
    std::int64_t leftId = 0;
    std::int64_t rightId = 0;
    PairOutcome outcome = PairOutcome::Tie;
    std::string annotator; ///< empty for derived and mined pairs
    PairSource source = PairSource::Human;
    bool shownSwapped = false;
    std::string reason;
};

enum class LabelTable { Graded, Pair };

class LabelWriter {
public:
    /// busyTimeoutMs: how long one batch waits for another process's write lock before its writes
    /// fail with Busy (the caller may submit them again).
    explicit LabelWriter(std::filesystem::path projectFile, std::size_t maxBatch = 512, int busyTimeoutMs = 5000);
    ~LabelWriter();
    LabelWriter(const LabelWriter &) = delete;
    LabelWriter &operator=(const LabelWriter &) = delete;

    /// Each returns the new label's id once committed.
    std::future<Result<std::int64_t>> addGraded(GradedLabelWrite label);
    std::future<Result<std::int64_t>> addPair(PairLabelWrite label);
    /// Undo (retracted = true) or redo (false) of a label; returns the label id.
    std::future<Result<std::int64_t>> setRetracted(LabelTable table, std::int64_t labelId, bool retracted);

    /// Blocks until every write queued so far has committed or failed.
    void flush();

private:
    struct Job {
        std::function<std::int64_t(Database &)> work;
        std::promise<Result<std::int64_t>> done;
    };

    std::future<Result<std::int64_t>> enqueue(std::function<std::int64_t(Database &)> work);
    void run();
    void commitBatch(Database &db, std::deque<Job> &batch);

    std::filesystem::path m_file;
    std::size_t m_maxBatch;
    int m_busyTimeoutMs;
    std::mutex m_mutex;
    std::condition_variable m_wake;
    std::condition_variable m_idle;
    std::deque<Job> m_queue;
    std::size_t m_inFlight = 0;
    bool m_stop = false;
    std::thread m_thread;
};

} // namespace unirank::storage
