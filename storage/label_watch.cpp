// SPDX-License-Identifier: GPL-3.0-or-later
#include "storage/label_watch.h"

#include "storage/db/database.h"

#include <optional>
#include <pthread.h>

namespace unirank::storage {

LabelWatcher::LabelWatcher(std::filesystem::path location, Callback onChange, std::chrono::milliseconds interval)
    : m_location(std::move(location))
    , m_onChange(std::move(onChange))
    , m_interval(interval)
    , m_thread([this] { run(); })
{
}

LabelWatcher::~LabelWatcher()
{
    m_stop = true;
    m_thread.join();
}

void LabelWatcher::run()
{
    pthread_setname_np(pthread_self(), "unirank-watch");
    std::optional<Database> db;
    bool reconnected = false;
    while (!m_stop) {
        bool changed = false;
        try {
            if (!db) {
                db.emplace(Database::open(m_location, Database::Mode::ReadOnly));
                db->listen("unirank_labels");
                changed = reconnected; // what happened while the connection was down
            }
            changed = db->waitForChange(m_interval) || changed;
        } catch (const std::exception &) {
            db.reset();
            reconnected = true;
            std::this_thread::sleep_for(m_interval);
            continue;
        }
        if (changed && !m_stop) {
            ++m_seen;
            try {
                m_onChange();
            } catch (...) {
                // A receiver's failure is its own; the watcher goes on.
            }
        }
    }
}

} // namespace unirank::storage
