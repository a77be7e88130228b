// SPDX-License-Identifier: GPL-3.0-or-later
// Crash consistency (docs/hardening.md): a child process (tests/tools/crash_child) repeats an import,
// a dataset export, or a training checkpoint save + publish of best/, and is killed with SIGKILL at a
// random moment, many times. After each kill:
//   import      the database passes integrity_check, holds every acknowledged collection, and every
//               collection it holds is complete (all or nothing); every media row has its file;
//   export      the export folder is absent or a complete dataset that reads back with all rows;
//   checkpoint  every checkpoint folder is complete (weights match their trainer state, the optimizer
//               state loads), the last acknowledged one is there, and best/ is a whole checkpoint.
// Label writes are covered the same way by test_crash_safety. test_crash_consistency_pg does the same
// with the project on the test server (the checkpoint part involves no database and runs alike).
#include "core/formats/beir.h"
#include "core/model/torch_io.h"
#include "core/training/checkpoints.h"
#include "core/training/optimizer_state.h"
#include "core/util/json_text.h"
#include "storage/dataset_import.h"
#include "storage/project.h"
#include "test_backend.h"
#include "test_support.h"

#include <QProcess>
#include <QRandomGenerator>
#include <QTemporaryDir>
#include <QTest>
#include <QThread>

#include <csignal>

using namespace unirank;
using namespace unirank::storage;
namespace fs = std::filesystem;

namespace {

constexpr int kRounds = 15;

/// Runs the child until it has acknowledged at least `minAcks` operations, waits a random part of one
/// operation's time more, kills it with SIGKILL, waits until the server (if any) has ended the child's
/// sessions, and returns the complete "ack ..." lines.
QList<QByteArray> runAndKill(const QStringList &args, int minAcks, QString *error)
{
    QProcess child;
    child.setProcessChannelMode(QProcess::SeparateChannels);
    auto environment = QProcessEnvironment::systemEnvironment();
    environment.insert(QStringLiteral("PGAPPNAME"), QString::fromStdString(test::killedChildSessionName()));
    child.setProcessEnvironment(environment);
    child.start(QStringLiteral(UNIRANK_CRASH_CHILD), args);
    if (!child.waitForStarted(10000)) {
        *error = child.errorString();
        return {};
    }
    QByteArray out;
    QElapsedTimer sinceStart;
    sinceStart.start();
    while (out.count('\n') < minAcks) {
        if (!child.waitForReadyRead(60000)) {
            *error = QStringLiteral("child stalled or died: ") + QString::fromUtf8(child.readAllStandardError());
            return {};
        }
        out += child.readAllStandardOutput();
    }
    const auto perOperation = std::max<qint64>(1, sinceStart.elapsed() / std::max(1, minAcks));
    QThread::msleep(static_cast<unsigned long>(QRandomGenerator::global()->bounded(perOperation)));
    ::kill(static_cast<pid_t>(child.processId()), SIGKILL);
    child.waitForFinished(10000);
    out += child.readAllStandardOutput();
    if (!test::waitForKilledChildSessions()) {
        *error = QStringLiteral("the server kept the killed child's session for 30 s");
        return {};
    }
    QList<QByteArray> acks;
    for (const auto &line : out.left(out.lastIndexOf('\n') + 1).split('\n'))
        if (line.startsWith("ack "))
            acks.push_back(line.mid(4));
    return acks;
}

std::int64_t count(Database &db, const std::string &sql) { return db.queryInt(sql).value_or(-1); }

/// Hidden staging / temp / old folders and files beside the targets. A kill may leave the one it
/// interrupted; the next write in that folder removes it, so they never accumulate.
int leftovers(const fs::path &dir)
{
    int n = 0;
    for (const auto &e : fs::directory_iterator(dir))
        n += e.path().filename().string().starts_with(".");
    return n;
}

} // namespace

class TestCrashConsistency : public QObject {
    Q_OBJECT
    QTemporaryDir m_tmp;
    fs::path m_root;

private slots:
    void initTestCase()
    {
        QVERIFY(m_tmp.isValid());
        m_root = m_tmp.path().toStdString();
        test::makeTinyDataset(m_root / "tiny");
    }

    void importIsAllOrNothing()
    {
        const fs::path file = test::newProjectLocation(m_root, "import");
        QVERIFY(test::createProject(file).has_value());
        const auto source = readBeirFolder(m_root / "tiny");
        int next = 0, acked = 0;
        for (int round = 0; round < kRounds; ++round) {
            QString error;
            const auto acks = runAndKill({"import", QString::fromStdString(file.string()),
                                          QString::fromStdString((m_root / "tiny").string()), QString::number(next)},
                                         QRandomGenerator::global()->bounded(1, 4), &error);
            QVERIFY2(error.isEmpty(), qPrintable(error));
            auto db = Database::open(file, Database::Mode::ReadWrite);
            QCOMPARE(db.integrityCheck(), std::string("ok"));
            for (const auto &a : acks) { // (on the server, the killed client's transaction was rolled back)
                const auto name = a.split(' ').front().toStdString();
                QVERIFY2(count(db, "SELECT count(*) FROM collections WHERE name = '" + name + "'") == 1,
                         qPrintable("acknowledged import lost: " + a));
                ++acked;
            }
            // Every collection present is complete.
            auto s = db.prepare("SELECT id, name FROM collections");
            int present = 0;
            while (s.step()) {
                const auto id = std::to_string(s.columnInt(0));
                QCOMPARE(count(db, "SELECT count(*) FROM queries WHERE collection_id = " + id), std::int64_t(source.queries.size()));
                QCOMPARE(count(db, "SELECT count(*) FROM candidates WHERE collection_id = " + id),
                         std::int64_t(source.candidates.size()));
                QCOMPARE(count(db, "SELECT count(*) FROM candidate_lists l JOIN queries q ON q.id = l.query_id "
                                   "WHERE q.collection_id = " + id),
                         std::int64_t(source.run->size()));
                ++present;
            }
            auto m = db.prepare("SELECT rel_path, bytes FROM media");
            auto project = std::move(Project::open(file).value());
            while (m.step())
                QCOMPARE(static_cast<std::int64_t>(fs::file_size(project->media().absolutePath(m.columnText(0)))), m.columnInt(1));
            next = present;
        }
        qInfo("import: %d kills, %d acknowledged imports, 0 lost, %d complete collections, none partial", kRounds,
              acked, next);
    }

    void exportIsCompleteOrAbsent()
    {
        const fs::path file = test::newProjectLocation(m_root, "export");
        {
            auto project = std::move(test::createProject(file).value());
            QVERIFY(importDataset(*project, m_root / "tiny").has_value());
        }
        const auto source = readBeirFolder(m_root / "tiny");
        const auto out = m_root / "exports";
        fs::create_directories(out);
        int acked = 0, absent = 0, complete = 0;
        for (int round = 0; round < kRounds; ++round) {
            QString error;
            const auto acks = runAndKill({"export", QString::fromStdString(file.string()), QString::fromStdString(out.string())},
                                         QRandomGenerator::global()->bounded(1, 4), &error);
            QVERIFY2(error.isEmpty(), qPrintable(error));
            acked += static_cast<int>(acks.size());
            QVERIFY(leftovers(out) <= 1);
            if (!fs::exists(out / "ds")) {
                QVERIFY2(acks.isEmpty(), "an acknowledged export is gone"); // a later export replaces it atomically
                ++absent;
                continue;
            }
            const auto back = readBeirFolder(out / "ds"); // throws for anything incomplete
            QCOMPARE(back.queries.size(), source.queries.size());
            QCOMPARE(back.candidates.size(), source.candidates.size());
            QCOMPARE(back.qrels.size(), source.qrels.size());
            QCOMPARE(back.run->size(), source.run->size());
            QCOMPARE(back.images.size(), source.images.size());
            ++complete;
        }
        qInfo("export: %d kills, %d acknowledged exports, 0 lost; after a kill: %d complete, %d absent, none partial; "
              "at most one staging leftover at a time (%d now)",
              kRounds, acked, complete, absent, leftovers(out));
    }

    void checkpointIsOldOrNew()
    {
        const auto out = m_root / "run.checkpoints";
        int acked = 0, folders = 0;
        for (int round = 0; round < kRounds; ++round) {
            QString error;
            const auto acks = runAndKill({"checkpoint", QString::fromStdString(out.string())},
                                         QRandomGenerator::global()->bounded(1, 6), &error);
            QVERIFY2(error.isEmpty(), qPrintable(error));
            QVERIFY(!acks.isEmpty());
            acked += static_cast<int>(acks.size());
            QVERIFY(leftovers(out) <= 1);
            // The last acknowledged checkpoint is there with exactly its weights.
            const auto last = acks.back().split(' ');
            const auto lastDir = training::checkpointDir(out, last[0].toLongLong());
            QVERIFY2(fs::exists(lastDir / "trainer_state.json"), "the acknowledged checkpoint is gone");
            for (const auto &e : fs::directory_iterator(out)) {
                const auto name = e.path().filename().string();
                if (!name.starts_with("checkpoint-") && name != "best")
                    continue;
                // Complete: weights that match the state they were saved with, and a loadable optimizer.
                auto tensors = model::readSafetensors(e.path() / "model.safetensors");
                QVERIFY2(tensors.has_value(), qPrintable(QString::fromStdString(name) + ": weights unreadable"));
                QCOMPARE(tensors->size(), std::size_t(4));
                double checksum = 0;
                std::vector<torch::Tensor> params;
                for (int i = 0; i < 4; ++i) {
                    const auto &t = tensors->at("w" + std::to_string(i));
                    checksum += t.sum().item<double>();
                    params.push_back(t.clone().requires_grad_(true));
                }
                if (name == "best")
                    continue; // holds model files only
                const auto state = readJsonFile(e.path() / "trainer_state.json");
                QCOMPARE(checksum, state.at("checksum").get<double>());
                torch::optim::AdamW optimizer(params, torch::optim::AdamWOptions(1e-2));
                training::loadOptimizerState(optimizer, e.path() / "optimizer.safetensors");
                if (e.path() == lastDir)
                    QCOMPARE(checksum, last[1].toDouble());
                ++folders;
            }
            QVERIFY(fs::exists(out / "best" / "model.safetensors"));
        }
        qInfo("checkpoint: %d kills, %d acknowledged checkpoints, 0 lost; %d checkpoint folders checked, all "
              "complete; best/ always whole; at most one staging leftover at a time (%d now)",
              kRounds, acked, folders, leftovers(out));
    }
};

QTEST_GUILESS_MAIN(TestCrashConsistency)
#include "test_crash_consistency.moc"
