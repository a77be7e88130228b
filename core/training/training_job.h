// SPDX-License-Identifier: GPL-3.0-or-later
// A training run in the background: one worker thread ("unirank-train", owned and joined here) runs
// a prepared trainer (instruction tuning or alignment). cancel() makes the trainer stop before its next
// micro-batch and leave a checkpoint at its last completed step; wait() returns the outcome. Callbacks
// run on the worker (a GUI forwards them with queued signals); any exception is caught at the thread
// boundary and returned as an Error.
//
// Threading: construct, cancel and wait from any one thread. The trainer is used only by the worker.
#pragma once

#include "core/training/align_trainer.h"
#include "core/training/sft_trainer.h"

#include <atomic>
#include <future>
#include <thread>

namespace unirank::training {

/// Names the calling thread (as debuggers and `top -H` show it).
void nameThisThread(const char *name);

template <typename R>
class BasicTrainingJob {
public:
    /// Starts at once. `run` is called on the worker with the cancel flag wired into its callbacks.
    BasicTrainingJob(std::function<R(const TrainCallbacks &)> run, TrainCallbacks callbacks) : m_future(m_promise.get_future())
    {
        m_worker = std::thread([this, run = std::move(run), callbacks = std::move(callbacks)]() mutable {
            nameThisThread("unirank-train");
            auto wired = callbacks;
            wired.cancelled = [this, user = callbacks.cancelled] { return m_cancel.load() || (user && user()); };
            try {
                m_promise.set_value(run(wired));
            } catch (const InputError &e) {
                m_promise.set_value(std::unexpected(Error{ErrorKind::BadInput, e.what()}));
            } catch (const std::exception &e) {
                m_promise.set_value(std::unexpected(Error{ErrorKind::Internal, e.what()}));
            }
        });
    }
    ~BasicTrainingJob() ///< cancels and joins
    {
        m_cancel = true;
        if (m_worker.joinable())
            m_worker.join();
    }
    BasicTrainingJob(const BasicTrainingJob &) = delete;
    BasicTrainingJob &operator=(const BasicTrainingJob &) = delete;

    void cancel() { m_cancel = true; }
    bool cancelRequested() const { return m_cancel; }
    /// Blocks until the worker is done.
    Result<R> wait()
    {
        auto result = m_future.get();
        if (m_worker.joinable())
            m_worker.join();
        return result;
    }

private:
    std::atomic<bool> m_cancel{false};
    std::promise<Result<R>> m_promise;
    std::future<Result<R>> m_future;
    std::thread m_worker;
};

using TrainingJob = BasicTrainingJob<SftResult>;
using AlignJob = BasicTrainingJob<AlignResult>;

} // namespace unirank::training
