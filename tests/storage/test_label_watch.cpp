// SPDX-License-Identifier: GPL-3.0-or-later
// LabelWatcher on both backends: another connection's label, undo or pair claim reaches the watcher's
// callback within a second; a quiet project stays quiet.
#include "storage/label_watch.h"
#include "storage/label_writer.h"
#include "storage/pair_claims.h"
#include "label_fixture.h"

#include <QTemporaryDir>
#include <QTest>

#include <condition_variable>
#include <mutex>

using namespace unirank;
using namespace unirank::storage;
using namespace std::chrono_literals;

class TestLabelWatch : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;

    struct Counter {
        std::mutex mutex;
        std::condition_variable cv;
        int calls = 0;
        bool waitFor(int n, std::chrono::milliseconds timeout)
        {
            std::unique_lock lock(mutex);
            return cv.wait_for(lock, timeout, [&] { return calls >= n; });
        }
        int now()
        {
            std::lock_guard lock(mutex);
            return calls;
        }
    };

private slots:
    void othersLabelsArrive()
    {
        const auto location = test::newProjectLocation(m_dir.path().toStdString(), "watched");
        const auto f = test::makeLabelProject(location);
        Counter counter;
        LabelWatcher watcher(location, [&] {
            std::lock_guard lock(counter.mutex);
            ++counter.calls;
            counter.cv.notify_all();
        }, 100ms);
        std::this_thread::sleep_for(300ms); // the watcher is listening
        QCOMPARE(counter.now(), 0);        // a quiet project stays quiet

        LabelWriter other(location);
        const auto label = other.addGraded({f.query, f.a, 2, "bob"}).get();
        QVERIFY(label);
        QVERIFY2(counter.waitFor(1, 1000ms), "a committed label did not reach the watcher within a second");

        const int before = counter.now();
        QVERIFY(other.setRetracted(LabelTable::Graded, *label, true).get());
        QVERIFY2(counter.waitFor(before + 1, 1000ms), "an undo did not reach the watcher");

        const int beforeClaim = counter.now();
        auto db = Database::open(location, Database::Mode::ReadWrite);
        QCOMPARE(claimPair(db, {f.query, f.a, f.b, "carol", false}).value(), ClaimOutcome::Claimed);
        QVERIFY2(counter.waitFor(beforeClaim + 1, 1000ms), "a pair claim did not reach the watcher");

        std::this_thread::sleep_for(400ms); // settled
        const int settled = counter.now();
        std::this_thread::sleep_for(500ms);
        QCOMPARE(counter.now(), settled);
        QCOMPARE(static_cast<int>(watcher.changesSeen()), settled);
    }

    void unreachableProjectDoesNotThrow()
    {
        // The watcher keeps retrying in its thread; nothing escapes, and it stops promptly.
        LabelWatcher watcher(m_dir.filePath("missing/none.unirank").toStdString(), [] {}, 50ms);
        std::this_thread::sleep_for(200ms);
        QCOMPARE(watcher.changesSeen(), std::uint64_t(0));
    }
};

QTEST_GUILESS_MAIN(TestLabelWatch)
#include "test_label_watch.moc"
