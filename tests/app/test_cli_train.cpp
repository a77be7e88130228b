// SPDX-License-Identifier: GPL-3.0-or-later
// unirank-cli train sft end to end on the smoke set with the tiny model: the JSON summary, the run and
// its metrics in the project, the adapter registered as a version under its base; Ctrl+C (SIGINT)
// leaves a checkpoint and a cancelled run, --resume finishes it; validation pair accuracy rises over ten
// epochs; a bad config names the key.
#include "storage/project.h"
#include "storage/repo/models.h"
#include "storage/repo/training.h"

#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <nlohmann/json.hpp>

#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>

using namespace unirank;
namespace fs = std::filesystem;

namespace {

struct Run {
    int code;
    QString out, err;
};

Run cli(const QStringList &args, int timeoutMs = 240000)
{
    QProcess p;
    p.start(QStringLiteral(UNIRANK_CLI), args);
    p.waitForFinished(timeoutMs);
    return {p.exitStatus() == QProcess::NormalExit ? p.exitCode() : -1, QString::fromUtf8(p.readAllStandardOutput()),
            QString::fromUtf8(p.readAllStandardError())};
}

QString source(const char *relative) { return QString::fromUtf8(qgetenv("UNIRANK_SOURCE_DIR")) + "/" + relative; }

} // namespace

class TestCliTrain : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QString m_project, m_config;

private slots:
    void initTestCase()
    {
        m_project = m_dir.filePath("t.unirank");
        QCOMPARE(cli({"init", m_project}).code, 0);
        QCOMPARE(cli({"import", m_project, "--dataset", source("resources/demo/clipart-smoke")}).code, 0);
        m_config = m_dir.filePath("sft.json");
        std::ofstream(m_config.toStdString())
            << R"({"max_steps": 8, "learning_rate": 1e-3, "per_device_train_batch_size": 8, "save_steps": 4,
                  "max_candidates_per_query": 8, "validation_split": 0.25})";
    }

    void trainsAndRegisters()
    {
        const auto out = m_dir.filePath("adapter");
        const auto r = cli({"train", "sft", "--project", m_project, "--model", source("resources/models/tiny-random"), "--config",
                            m_config, "--adapter-out", out, "--json"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        const auto summary = nlohmann::json::parse(r.out.trimmed().split('\n').last().toStdString());
        QCOMPARE(summary.at("steps").get<int>(), 8);
        QVERIFY(summary.at("train_loss_last").get<double>() < summary.at("train_loss_first").get<double>());
        QVERIFY(summary.at("val_pair_accuracy_before").is_number() && summary.at("val_pair_accuracy_after").is_number());
        QCOMPARE(summary.at("adapter").get<std::string>(), out.toStdString());
        QVERIFY(fs::exists(out.toStdString() + "/adapter_model.safetensors"));
        auto project = std::move(storage::Project::open(m_project.toStdString()).value());
        const auto version = storage::findModelVersion(project->db(), summary.at("model_version").get<std::string>());
        QVERIFY(version && version->kind == storage::ModelKind::Adapter && version->parentId);
        const auto run = storage::findTrainingRun(project->db(), summary.at("training_run").get<std::int64_t>());
        QVERIFY(run && run->status == storage::TrainingStatus::Completed && run->resultModelVersionId == version->id);
        const auto metrics = storage::trainingMetrics(project->db(), run->id);
        QVERIFY(std::count_if(metrics.begin(), metrics.end(), [](const auto &m) { return m.name == "loss"; }) == 8);
        QVERIFY(std::any_of(metrics.begin(), metrics.end(), [](const auto &m) { return m.name == "val_pair_accuracy"; }));
        // The adapter scores: the scorer merges it.
        const auto scored = cli({"score", "--model", source("resources/models/tiny-random"), "--adapter", out, "--project",
                                 m_project, "--out", m_dir.filePath("adapted.trec")});
        QVERIFY2(scored.code == 0, qPrintable(scored.err));
        // Merge-and-export: the full folder scores as base + adapter.
        const auto merged = m_dir.filePath("merged");
        const auto m = cli({"merge", "--model", source("resources/models/tiny-random"), "--adapter", out, "--out", merged});
        QVERIFY2(m.code == 0, qPrintable(m.err));
        QVERIFY(fs::exists(merged.toStdString() + "/model.safetensors") && fs::exists(merged.toStdString() + "/tokenizer.json"));
        const auto viaMerged = cli({"score", "--model", merged, "--dataset", source("resources/demo/clipart-smoke"), "--out",
                                    m_dir.filePath("merged.trec")});
        const auto viaAdapter = cli({"score", "--model", source("resources/models/tiny-random"), "--adapter", out, "--dataset",
                                     source("resources/demo/clipart-smoke"), "--out", m_dir.filePath("adapter.trec")});
        QVERIFY2(viaMerged.code == 0 && viaAdapter.code == 0, qPrintable(viaMerged.err + viaAdapter.err));
        const auto scores = [](const QString &file) {
            std::map<std::string, double> s;
            std::ifstream in(file.toStdString());
            std::string q, q0, doc, tag;
            int rank = 0;
            double score = 0;
            while (in >> q >> q0 >> doc >> rank >> score >> tag)
                s[q + " " + doc] = score;
            return s;
        };
        const auto a = scores(m_dir.filePath("merged.trec")), b = scores(m_dir.filePath("adapter.trec"));
        QCOMPARE(a.size(), b.size());
        double worst = 0;
        for (const auto &[key, v] : a)
            worst = std::max(worst, std::abs(v - b.at(key)));
        QVERIFY2(worst < 1e-4, std::to_string(worst).c_str());
        // A second run into the same folder without --resume is refused.
        const auto again = cli({"train", "sft", "--project", m_project, "--model", source("resources/models/tiny-random"),
                                "--config", m_config, "--adapter-out", out});
        QCOMPARE(again.code, 1);
        QVERIFY(again.err.contains("--resume"));
    }

    void interruptAndResume()
    {
        const auto config = m_dir.filePath("long.json");
        std::ofstream(config.toStdString()) << R"({"max_steps": 400, "per_device_train_batch_size": 2, "save_steps": 1000,
                                                  "max_candidates_per_query": 4, "validation_split": 0.2})";
        const auto out = m_dir.filePath("long-adapter");
        const QStringList args{"train", "sft", "--project", m_project, "--model", source("resources/models/tiny-random"),
                               "--config", config, "--adapter-out", out};
        QProcess p;
        p.start(QStringLiteral(UNIRANK_CLI), args);
        QString err;
        QTRY_VERIFY_WITH_TIMEOUT((err += QString::fromUtf8(p.readAllStandardError())).contains("step 3/"), 120000);
        ::kill(static_cast<pid_t>(p.processId()), SIGINT);
        QVERIFY(p.waitForFinished(120000));
        err += QString::fromUtf8(p.readAllStandardError());
        QCOMPARE(p.exitCode(), 0);
        QVERIFY2(err.contains("cancelled at step"), qPrintable(err));
        QVERIFY(!fs::exists(out.toStdString())); // nothing registered or copied
        const auto checkpoints = out.toStdString() + ".checkpoints";
        bool found = false;
        for (const auto &e : fs::directory_iterator(checkpoints))
            found = found || fs::exists(e.path() / "optimizer.pt");
        QVERIFY(found);
        {
            auto project = std::move(storage::Project::open(m_project.toStdString()).value());
            auto s = project->db().prepare("SELECT status FROM training_runs ORDER BY id DESC LIMIT 1");
            QVERIFY(s.step());
            QCOMPARE(s.columnText(0), std::string("cancelled"));
        }
        // Resume with a smaller budget (max_steps 12): it continues from the checkpoint and stops at 12.
        std::ofstream(config.toStdString()) << R"({"max_steps": 12, "per_device_train_batch_size": 2, "save_steps": 1000,
                                                  "max_candidates_per_query": 4, "validation_split": 0.2})";
        const auto resumed = cli(QStringList(args) << "--resume" << "--json");
        QVERIFY2(resumed.code == 0, qPrintable(resumed.err));
        QVERIFY(resumed.err.contains("resumed from"));
        const auto summary = nlohmann::json::parse(resumed.out.trimmed().split('\n').last().toStdString());
        QCOMPARE(summary.at("steps").get<int>(), 12);
        QVERIFY(fs::exists(out.toStdString() + "/adapter_config.json"));
    }

    // Ten epochs of LoRA (text and vision, listwise term on) on the 16 training queries of the smoke set
    // lift pairwise accuracy on the 4 held-out queries: the adapter learns something that carries over
    // to unseen queries, not only a falling training loss. Measured at this seed: 0.554 before, 0.632
    // after the last epoch with one thread, 0.615 with two (thread count changes the float sums); other
    // seeds hold out other queries and rise by -0.01 to +0.10 (see the closing note of issue 7).
    void validationAccuracyRises()
    {
        const auto config = m_dir.filePath("learn.json");
        std::ofstream(config.toStdString())
            << R"({"num_train_epochs": 10, "learning_rate": 5e-3, "per_device_train_batch_size": 8, "r": 16, "lora_alpha": 32,
                  "max_candidates_per_query": 16, "listwise_weight": 1.0, "lora_vision": true, "seed": 42})";
        const auto r = cli({"train", "sft", "--project", m_project, "--model", source("resources/models/tiny-random"), "--config",
                            config, "--adapter-out", m_dir.filePath("learned"), "--json"},
                           900000);
        QVERIFY2(r.code == 0, qPrintable(r.err));
        const auto summary = nlohmann::json::parse(r.out.trimmed().split('\n').last().toStdString());
        const auto before = summary.at("val_pair_accuracy_before").get<double>();
        const auto final = summary.at("val_pair_accuracy_final").get<double>();
        const auto best = summary.at("val_pair_accuracy_after").get<double>();
        const auto report = QString("before %1, final %2, best %3").arg(before).arg(final).arg(best);
        QVERIFY2(summary.at("train_loss_last").get<double>() < 0.5 * summary.at("train_loss_first").get<double>(), qPrintable(report));
        QVERIFY2(final >= before + 0.03, qPrintable(report));
        QVERIFY2(best >= final, qPrintable(report));
    }

    void badConfig()
    {
        const auto config = m_dir.filePath("bad.json");
        std::ofstream(config.toStdString()) << R"({"max_stepz": 3})";
        const auto r = cli({"train", "sft", "--project", m_project, "--model", source("resources/models/tiny-random"),
                            "--config", config});
        QCOMPARE(r.code, 1);
        QVERIFY2(r.err.contains("max_stepz") && r.err.contains("bad.json"), qPrintable(r.err));
    }
};

QTEST_GUILESS_MAIN(TestCliTrain)
#include "test_cli_train.moc"
