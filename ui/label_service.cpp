// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/label_service.h"

#include <QPointer>
#include <QThread>

#include <map>
#include <utility>

namespace unirank::ui {

/// Lives on the history thread: the writer, the undo stack and which query each label belongs to.
class LabelService::Worker final : public QObject {
public:
    Worker(const std::filesystem::path &file, int busyTimeoutMs)
        : writer(file, 512, busyTimeoutMs)
        , history(writer)
    {
    }

    HistoryState state() const
    {
        return {history.canUndo(), history.canRedo(), QString::fromStdString(history.undoText()),
                QString::fromStdString(history.redoText())};
    }

    Reply added(storage::LabelTable table, std::int64_t queryId, const Result<std::int64_t> &id)
    {
        Reply r;
        r.table = table;
        r.queryId = queryId;
        if (id) {
            r.labelId = *id;
            queryOf[{table, *id}] = queryId;
        } else {
            r.error = id.error();
        }
        return r;
    }

    Reply step(bool backwards)
    {
        Reply r;
        const auto target = backwards ? history.undoTarget() : history.redoTarget();
        if (!target) {
            r.error = Error{ErrorKind::BadInput, backwards ? "nothing to undo" : "nothing to redo"};
            return r;
        }
        r.table = target->table;
        r.queryId = queryOf[{target->table, target->labelId}];
        if (const auto done = backwards ? history.undo() : history.redo())
            r.labelId = target->labelId;
        else
            r.error = done.error();
        return r;
    }

    storage::LabelWriter writer;
    storage::LabelHistory history;
    std::map<std::pair<storage::LabelTable, std::int64_t>, std::int64_t> queryOf;
};

LabelService::LabelService(const std::filesystem::path &projectFile, QObject *parent, int busyTimeoutMs,
                           int busyAttempts)
    : QObject(parent)
    , m_thread(new QThread(this))
    , m_worker(new Worker(projectFile, busyTimeoutMs))
    , m_attempts(busyAttempts < 1 ? 1 : busyAttempts)
{
    m_thread->setObjectName(QStringLiteral("unirank-history"));
    m_worker->moveToThread(m_thread);
    m_thread->start();
}

LabelService::~LabelService()
{
    // Queued after every write submitted so far: the thread stops once they are answered.
    QMetaObject::invokeMethod(
        m_worker, [] { QThread::currentThread()->quit(); }, Qt::QueuedConnection);
    m_thread->wait();
    delete m_worker; // joins the writer's thread after its queue is empty
}

quint64 LabelService::submit(Op op, std::int64_t queryId, std::function<Reply(Worker &)> work)
{
    const auto ticket = m_nextTicket++;
    ++m_pending;
    QPointer<LabelService> self(this);
    const auto attempts = m_attempts;
    QMetaObject::invokeMethod(
        m_worker,
        [worker = m_worker, self, ticket, op, queryId, attempts, work = std::move(work)] {
            Reply reply;
            for (int attempt = 1;; ++attempt) {
                try {
                    reply = work(*worker);
                } catch (const std::exception &e) { // nothing escapes the thread
                    reply = Reply{};
                    reply.error = Error{ErrorKind::Internal, e.what()};
                }
                if (!reply.error || reply.error->kind != ErrorKind::Busy || attempt >= attempts)
                    break;
                QMetaObject::invokeMethod(
                    self, [self, ticket, queryId] { emit self->waiting(ticket, queryId); }, Qt::QueuedConnection);
            }
            reply.ticket = ticket;
            reply.op = op;
            reply.history = worker->state();
            QMetaObject::invokeMethod(
                self,
                [self, reply] {
                    --self->m_pending;
                    self->m_history = reply.history;
                    emit self->done(reply);
                },
                Qt::QueuedConnection);
        },
        Qt::QueuedConnection);
    return ticket;
}

quint64 LabelService::addGraded(storage::GradedLabelWrite label)
{
    const auto query = label.queryId;
    return submit(Op::Add, query, [label = std::move(label)](Worker &w) {
        return w.added(storage::LabelTable::Graded, label.queryId, w.history.addGraded(label));
    });
}

quint64 LabelService::addPair(storage::PairLabelWrite label)
{
    const auto query = label.queryId;
    return submit(Op::Add, query, [label = std::move(label)](Worker &w) {
        return w.added(storage::LabelTable::Pair, label.queryId, w.history.addPair(label));
    });
}

quint64 LabelService::undo()
{
    return submit(Op::Undo, 0, [](Worker &w) { return w.step(true); });
}

quint64 LabelService::redo()
{
    return submit(Op::Redo, 0, [](Worker &w) { return w.step(false); });
}

} // namespace unirank::ui
