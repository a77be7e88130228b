// SPDX-License-Identifier: GPL-3.0-or-later
// The GUI's label writes, acknowledged asynchronously. A key press queues the write and returns a
// ticket at once; the write, its undo history (storage::LabelHistory) and the wait for another
// process's lock all happen on the "unirank-history" thread, and the answer comes back as a signal:
//
//   const auto ticket = service.addPair(label);       // returns at once
//   // waiting(ticket)  while another process holds the project's write lock (the write is retried)
//   // done(reply)      once the label's transaction has committed, or failed for good
//
// A reply with no error means the label is committed (it survives a killed process). A Busy failure
// is retried up to busyAttempts() times (each attempt waits the writer's busy timeout), then reported.
// Replies arrive in submission order; each carries the history's state after it (undo/redo texts).
//
// Threading: construct and call on the GUI thread; signals arrive there. The destructor finishes every
// queued write (at most busyAttempts() x the busy timeout when another process holds the lock).
// Errors: a reply's error (BadInput: unknown candidate or nothing to undo; Busy; Internal).
#pragma once

#include "core/util/error.h"
#include "storage/label_history.h"

#include <QObject>
#include <QString>

#include <filesystem>
#include <optional>

class QThread;

namespace unirank::ui {

class LabelService final : public QObject {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LabelService)

public:
    enum class Op { Add, Undo, Redo };

    struct HistoryState {
        bool canUndo = false, canRedo = false;
        QString undoText, redoText;
    };

    struct Reply {
        quint64 ticket = 0;
        Op op = Op::Add;
        storage::LabelTable table = storage::LabelTable::Graded;
        std::int64_t labelId = 0; ///< the label written, retracted or restored (0 on failure)
        std::int64_t queryId = 0;
        std::optional<Error> error;
        HistoryState history; ///< after this reply
    };

    /// busyTimeoutMs: one attempt's wait for another process's lock; busyAttempts: attempts per write.
    explicit LabelService(const std::filesystem::path &projectFile, QObject *parent = nullptr, int busyTimeoutMs = 2000,
                          int busyAttempts = 30);
    ~LabelService() override;

    quint64 addGraded(storage::GradedLabelWrite label);
    quint64 addPair(storage::PairLabelWrite label);
    quint64 undo();
    quint64 redo();

    /// Writes queued and not yet answered.
    int pending() const { return m_pending; }
    /// The history as of the newest reply (a queued write is not in it yet).
    const HistoryState &history() const { return m_history; }
    int busyAttempts() const { return m_attempts; }

signals:
    void waiting(quint64 ticket, std::int64_t queryId); ///< another process holds the lock; retrying
    void done(const unirank::ui::LabelService::Reply &reply);

private:
    class Worker;
    quint64 submit(Op op, std::int64_t queryId, std::function<Reply(Worker &)> work);

    QThread *m_thread;
    Worker *m_worker;
    int m_attempts;
    quint64 m_nextTicket = 1;
    int m_pending = 0;
    HistoryState m_history;
};

} // namespace unirank::ui
