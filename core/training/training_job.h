// SPDX-License-Identifier: GPL-3.0-or-later
// A training run in the background: one worker thread ("unirank-train", owned and joined here) runs
// a prepared trainer. cancel() makes the trainer stop before its next micro-batch and leave a
// checkpoint at its last completed step; wait() returns the outcome. Callbacks run on the worker (a
// GUI forwards them with queued signals); any exception is caught at the thread boundary and returned
// as an Error.
//
// Threading: construct, cancel and wait from any one thread. The trainer is used only by the worker.
#pragma once

#include "core/training/sft_trainer.h"

#include <atomic>
#include <future>
#include <thread>

namespace unirank::training {

class TrainingJob {
public:
    /// Starts at once. `run` is called on the worker with the cancel flag wired into its callbacks.
    TrainingJob(std::function<SftResult(const TrainCallbacks &)> run, TrainCallbacks callbacks);
    ~TrainingJob(); ///< cancels and joins
    TrainingJob(const TrainingJob &) = delete;
    TrainingJob &operator=(const TrainingJob &) = delete;

    void cancel() { m_cancel = true; }
    bool cancelRequested() const { return m_cancel; }
    /// Blocks until the worker is done.
    Result<SftResult> wait();

private:
    std::atomic<bool> m_cancel{false};
    std::promise<Result<SftResult>> m_promise;
    std::future<Result<SftResult>> m_future;
    std::thread m_worker;
};

} // namespace unirank::training
