// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/training/training_job.h"

#include <pthread.h>

namespace unirank::training {

TrainingJob::TrainingJob(std::function<SftResult(const TrainCallbacks &)> run, TrainCallbacks callbacks)
    : m_future(m_promise.get_future())
{
    m_worker = std::thread([this, run = std::move(run), callbacks = std::move(callbacks)]() mutable {
        pthread_setname_np(pthread_self(), "unirank-train");
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

TrainingJob::~TrainingJob()
{
    m_cancel = true;
    if (m_worker.joinable())
        m_worker.join();
}

Result<SftResult> TrainingJob::wait()
{
    auto result = m_future.get();
    if (m_worker.joinable())
        m_worker.join();
    return result;
}

} // namespace unirank::training
