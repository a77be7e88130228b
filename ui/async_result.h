// SPDX-License-Identifier: GPL-3.0-or-later
// runThenDeliver: run work on the global thread pool and hand its result to a callback on the owner's
// thread; the callback is dropped when the owner is destroyed first (its work still finishes on the
// pool, so work must own everything it touches: a file name, never a widget or a connection).
// Several runs may overlap; a caller that wants "latest wins" numbers its runs and ignores older ones.
//
// Threading: call on the owner's thread. Errors: work must not throw (catch at the boundary inside it).
#pragma once

#include <QFutureWatcher>
#include <QObject>
#include <QtConcurrent/QtConcurrentRun>

#include <type_traits>
#include <utility>

namespace unirank::ui {

template <class Work, class Deliver> void runThenDeliver(QObject *owner, Work work, Deliver deliver)
{
    using T = std::invoke_result_t<Work>;
    auto *watcher = new QFutureWatcher<T>(owner);
    QObject::connect(watcher, &QFutureWatcherBase::finished, owner, [watcher, deliver = std::move(deliver)] {
        deliver(watcher->result());
        watcher->deleteLater();
    });
    watcher->setFuture(QtConcurrent::run(std::move(work)));
}

} // namespace unirank::ui
