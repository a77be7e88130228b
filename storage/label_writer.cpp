// SPDX-License-Identifier: GPL-3.0-or-later
#include "storage/label_writer.h"

#include "storage/errors.h"
#include "storage/pair_claims.h"
#include "storage/repo/audit.h"

#include <pthread.h>

namespace unirank::storage {

LabelWriter::LabelWriter(std::filesystem::path projectFile, std::size_t maxBatch, int busyTimeoutMs)
    : m_file(std::move(projectFile))
    , m_maxBatch(maxBatch == 0 ? 1 : maxBatch)
    , m_busyTimeoutMs(busyTimeoutMs)
{
    m_thread = std::thread([this] { run(); });
}

LabelWriter::~LabelWriter()
{
    {
        std::lock_guard lock(m_mutex);
        m_stop = true;
    }
    m_wake.notify_all();
    m_thread.join();
}

std::future<Result<std::int64_t>> LabelWriter::enqueue(std::function<std::int64_t(Database &)> work)
{
    Job job{std::move(work), {}};
    auto future = job.done.get_future();
    {
        std::lock_guard lock(m_mutex);
        m_queue.push_back(std::move(job));
    }
    m_wake.notify_one();
    return future;
}

std::future<Result<std::int64_t>> LabelWriter::addGraded(GradedLabelWrite l)
{
    return enqueue([l = std::move(l)](Database &db) {
        const auto annotator = ensureAnnotator(db, l.annotator);
        const auto id = insertGradedLabel(db, l.queryId, l.candidateId, l.grade, annotator, GradedSource::Human);
        appendAudit(db, l.annotator, "label", "graded_labels", id, {{"grade", l.grade}});
        return id;
    });
}

std::future<Result<std::int64_t>> LabelWriter::addPair(PairLabelWrite l)
{
    return enqueue([l = std::move(l)](Database &db) {
        PairLabelInput in{l.queryId, l.leftId, l.rightId, l.outcome, std::nullopt, l.source, l.shownSwapped, l.reason};
        if (!l.annotator.empty())
            in.annotatorId = ensureAnnotator(db, l.annotator);
        const auto id = insertPairLabel(db, in);
        if (in.annotatorId)
            closePairClaim(db, l.queryId, l.leftId, l.rightId, *in.annotatorId);
        appendAudit(db, l.annotator.empty() ? std::string(toString(l.source)) : l.annotator, "label", "pair_labels", id,
                    {{"outcome", toString(l.outcome)}});
        return id;
    });
}

std::future<Result<std::int64_t>> LabelWriter::setRetracted(LabelTable table, std::int64_t labelId, bool retracted)
{
    return enqueue([=](Database &db) {
        const bool found = table == LabelTable::Graded ? setGradedLabelRetracted(db, labelId, retracted)
                                                       : setPairLabelRetracted(db, labelId, retracted);
        if (!found)
            throw InputError(SourceLocation{"", 0, "label"}, "no label with id " + std::to_string(labelId));
        appendAudit(db, "gui", retracted ? "undo" : "redo", table == LabelTable::Graded ? "graded_labels" : "pair_labels",
                    labelId);
        return labelId;
    });
}

void LabelWriter::flush()
{
    std::unique_lock lock(m_mutex);
    m_idle.wait(lock, [this] { return m_queue.empty() && m_inFlight == 0; });
}

void LabelWriter::run()
{
    pthread_setname_np(pthread_self(), "unirank-labels");
    std::optional<Database> db;
    std::optional<Error> openError;
    // A file that cannot be opened stays so; a server may be back in a moment (its errors are Busy, which
    // callers retry), so a server connection is reopened before a batch when it was lost or never made.
    const bool server = isServerLocation(m_file.native());
    const auto open = [&] {
        openError.reset();
        try {
            db.emplace(Database::open(m_file, Database::Mode::ReadWrite, m_busyTimeoutMs));
        } catch (const StorageError &e) {
            openError = Error{server ? e.kind() : ErrorKind::Internal,
                              std::string("label writer cannot open the project: ") + e.what()};
        } catch (const std::exception &e) {
            openError = Error{ErrorKind::Internal, std::string("label writer cannot open the project: ") + e.what()};
        }
    };
    open();
    for (;;) {
        std::deque<Job> batch;
        {
            std::unique_lock lock(m_mutex);
            m_wake.wait(lock, [this] { return m_stop || !m_queue.empty(); });
            if (m_queue.empty() && m_stop)
                return;
            while (!m_queue.empty() && batch.size() < m_maxBatch) {
                batch.push_back(std::move(m_queue.front()));
                m_queue.pop_front();
            }
            m_inFlight = batch.size();
        }
        if (server && (!db || !db->connected())) {
            db.reset();
            open();
        }
        if (openError) {
            for (auto &job : batch)
                job.done.set_value(std::unexpected(*openError));
        } else {
            commitBatch(*db, batch);
        }
        {
            std::lock_guard lock(m_mutex);
            m_inFlight = 0;
        }
        m_idle.notify_all();
    }
}

void LabelWriter::commitBatch(Database &db, std::deque<Job> &batch)
{
    std::vector<Result<std::int64_t>> results;
    results.reserve(batch.size());
    const auto committed = capture([&] {
        Transaction tx(db);
        for (auto &job : batch) {
            db.exec("SAVEPOINT label");
            auto r = capture([&] {
                try {
                    return job.work(db);
                } catch (const StorageError &e) {
                    if (!e.constraint())
                        throw;
                    // A foreign key or CHECK: the label names nothing valid.
                    throw StorageError(ErrorKind::BadInput, e.code(), e.what(), true);
                }
            });
            db.exec(r ? "RELEASE label" : "ROLLBACK TO label; RELEASE label");
            results.push_back(std::move(r));
        }
        tx.commit();
    });
    for (std::size_t i = 0; i < batch.size(); ++i) {
        if (committed)
            batch[i].done.set_value(std::move(results[i]));
        else
            batch[i].done.set_value(std::unexpected(committed.error()));
    }
}

} // namespace unirank::storage
