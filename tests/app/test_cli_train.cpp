// SPDX-License-Identifier: GPL-3.0-or-later
// unirank-cli train sft end to end on the smoke set with the tiny model: the JSON summary, the run and
// its metrics in the project, the adapter registered as a version under its base; Ctrl+C (SIGINT)
// leaves a checkpoint and a cancelled run, --resume finishes it; validation pair accuracy rises over ten
// epochs; train align (PL-GRPO and DPO) from that adapter; default alignment rounds after the tour's
// instruction tuning publish without the reporting queries' pair accuracy falling; a round that publishes
// nothing says why with nulls; a bad config names the key.
#include "cli_run.h"
#include "storage/project.h"
#include "storage/repo/models.h"
#include "storage/repo/training.h"

#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <nlohmann/json.hpp>

#include <cmath>
#include <csignal>
#include <filesystem>
#include <fstream>
#include <map>

using namespace unirank;
namespace fs = std::filesystem;

namespace {

using Run = test::CliRun;

// One thread per training process: CTest runs two tests at a time on the 2-core CI machine, and two
// OpenMP threads beside OpenBLAS's own made alignment rounds slower, not faster (and the figures
// quoted below were measured with one).
Run cli(const QStringList &args, int timeoutMs = 240000)
{
    return test::runCli(QStringLiteral(UNIRANK_CLI), args, {timeoutMs, {}, true});
}

QString source(const char *relative) { return test::sourcePath(relative); }

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
            found = found || fs::exists(e.path() / "optimizer.safetensors");
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
    // seeds hold out other queries and rise by +0.01 to +0.09 (see the closing note of issue 7).
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

    // Alignment from the adapter the previous test trained (its reference): one PL-GRPO round on the
    // smoke set keeps the KL to the reference under max_kl; the best checkpoint is the evaluation with
    // the highest held-out pair accuracy; the round's preference set (with mined hard negatives) is
    // written as TRL JSONL; the metrics and the new version (parent: the starting adapter) are in the
    // project; the reference's files are untouched. DPO from the same reference starts from the same
    // held-out accuracy and grows the implicit reward margin of its training pairs.
    // (Held-out accuracy itself is defaultRoundsPublish's: this adapter has memorised its 16
    // training queries, and a round from it moved the 4 held-out ones by -0.01 to 0.)
    // Rates: the float sums differ between CPUs (OpenBLAS picks its kernels per CPU). On an AMD EPYC
    // host PL-GRPO at 2e-4 crossed max_kl at step 14 (KL 1.22); at 1e-4 its KL ends at 0.67. DPO at
    // 2e-4 for 8 steps moved the margin by less than its batch-to-batch noise (-0.19 -> -0.30); at 1e-3
    // for 20 steps it grows 0.56 -> 2.44.
    void alignRoundOnTheSmokeSet()
    {
        const auto start = m_dir.filePath("learned");
        QVERIFY(fs::exists(start.toStdString() + "/adapter_model.safetensors"));
        const auto referenceBytes = [&] {
            std::ifstream in(start.toStdString() + "/adapter_model.safetensors", std::ios::binary);
            return std::string(std::istreambuf_iterator<char>(in), {});
        };
        const auto before = referenceBytes();
        const auto config = m_dir.filePath("grpo.json");
        std::ofstream(config.toStdString()) << R"({"learning_rate": 1e-4, "num_train_epochs": 3, "per_device_train_batch_size": 2})";
        const auto out = m_dir.filePath("grpo");
        const auto r = cli({"train", "align", "--project", m_project, "--model", source("resources/models/tiny-random"), "--adapter",
                            start, "--method", "pl-grpo", "--config", config, "--adapter-out", out, "--json"},
                           900000);
        QVERIFY2(r.code == 0, qPrintable(r.err));
        const auto s = nlohmann::json::parse(r.out.trimmed().split('\n').last().toStdString());
        const auto report = QString::fromStdString(s.dump());
        QVERIFY2(s.at("steps").get<int>() % 3 == 0 && s.at("steps").get<int>() >= 15, qPrintable(report)); // 3 epochs, 2 queries per step
        QVERIFY2(s.at("kl_last").get<double>() < 1.0 && !s.at("stopped_by_kl").get<bool>(), qPrintable(report));
        qInfo("pl-grpo round: %s", qPrintable(report));
        QVERIFY(s.at("held_out_pairs").get<int>() > 20);
        QCOMPARE(referenceBytes(), before);
        // The round's preference set: TRL records, some of them mined.
        std::ifstream prefs(s.at("preference_files").at(0).get<std::string>());
        std::string line;
        std::size_t lines = 0, mined = 0;
        while (std::getline(prefs, line)) {
            const auto j = nlohmann::json::parse(line);
            QVERIFY(j.contains("prompt") && j.contains("chosen") && j.contains("rejected") && j.contains("reason"));
            ++lines;
            mined += j.at("source") == "mined";
        }
        QCOMPARE(lines, s.at("training_pairs").get<std::size_t>());
        QVERIFY(mined > 0);
        auto project = std::move(storage::Project::open(m_project.toStdString()).value());
        const auto version = storage::findModelVersion(project->db(), s.at("model_version").get<std::string>());
        QVERIFY(version && version->kind == storage::ModelKind::Adapter && version->parentId);
        const auto versions = storage::listModelVersions(project->db());
        QVERIFY(std::any_of(versions.begin(), versions.end(),
                            [&](const auto &v) { return v.id == *version->parentId && v.path == start.toStdString(); }));
        const auto run = storage::findTrainingRun(project->db(), s.at("training_run").get<std::int64_t>());
        QVERIFY(run && run->kind == "pl-grpo" && run->status == storage::TrainingStatus::Completed);
        const auto metrics = storage::trainingMetrics(project->db(), run->id);
        for (const char *name : {"reward", "reward_std", "kl", "val_pair_accuracy", "val_kl"})
            QVERIFY2(std::any_of(metrics.begin(), metrics.end(), [&](const auto &m) { return m.name == name; }), name);
        double bestSeen = -1;
        for (const auto &m : metrics)
            if (m.name == "val_pair_accuracy" && m.step > 0)
                bestSeen = std::max(bestSeen, m.value);
        QCOMPARE(s.at("pair_accuracy_after").get<double>(), bestSeen);

        std::ofstream(m_dir.filePath("dpo.json").toStdString()) << R"({"learning_rate": 1e-3, "max_steps": 20, "beta": 1.0})";
        const auto d = cli({"train", "align", "--project", m_project, "--model", source("resources/models/tiny-random"), "--adapter",
                            start, "--method", "dpo", "--config", m_dir.filePath("dpo.json"), "--adapter-out", m_dir.filePath("dpo"),
                            "--json"},
                           900000);
        QVERIFY2(d.code == 0, qPrintable(d.err));
        const auto ds = nlohmann::json::parse(d.out.trimmed().split('\n').last().toStdString());
        QCOMPARE(ds.at("steps").get<int>(), 20);
        qInfo("dpo round: reward (margin) %.3f -> %.3f", ds.at("reward_first").get<double>(), ds.at("reward_last").get<double>());
        QCOMPARE(ds.at("pair_accuracy_before").get<double>(), s.at("pair_accuracy_before").get<double>());
        QVERIFY2(ds.at("reward_last").get<double>() > ds.at("reward_first").get<double>(), ds.dump().c_str()); // implicit reward margin grows
        QCOMPARE(referenceBytes(), before);
    }

    // The acceptance run of stage two on the smoke project, as the README's tour goes: instruction tuning
    // from resources/models/clipart-tiny (tuned on the dev split without the smoke queries) with the
    // tour's settings, then one alignment round with default settings for each method. Both publish a
    // checkpoint within max_kl (the KL guard keeps the policy inside), and the pair accuracy on the
    // reporting queries (held out, never used to choose) does not fall. Measured with seeds 42 / 7 / 3
    // (the first is this test's): PL-GRPO 0.452 -> 0.548 / 0.545 -> 0.574 / 0.416 -> 0.427; DPO
    // 0.452 -> 0.462 / 0.545 -> 0.535 / 0.416 -> 0.416 (docs/training.md): DPO barely moves this model.
    void defaultRoundsPublish()
    {
        const auto reference = source("resources/models/clipart-tiny");
        const auto sft = m_dir.filePath("tour-sft");
        const auto t = cli({"train", "sft", "--project", m_project, "--model", reference, "--set", "num_train_epochs=6", "--set",
                            "learning_rate=1e-3", "--set", "r=16", "--set", "lora_alpha=32", "--set", "listwise_weight=1",
                            "--adapter-out", sft, "--json"},
                           600000);
        QVERIFY2(t.code == 0, qPrintable(t.err));
        for (const char *method : {"pl-grpo", "dpo"}) {
            const auto r = cli({"train", "align", "--project", m_project, "--model", reference, "--adapter", sft, "--method", method,
                                "--adapter-out", m_dir.filePath(QString("tour-") + method), "--json"},
                               600000);
            QVERIFY2(r.code == 0, qPrintable(r.err));
            const auto s = nlohmann::json::parse(r.out.trimmed().split('\n').last().toStdString());
            const auto report = QString::fromStdString(s.dump());
            qInfo("%s: selection %.3f -> %.3f, reporting %.3f -> %.3f, KL %.3f, %d rollbacks", method,
                  s.at("pair_accuracy_before").get<double>(), s.at("pair_accuracy_after").get<double>(),
                  s.at("report_pair_accuracy_before").get<double>(), s.at("report_pair_accuracy_after").get<double>(),
                  s.at("kl_after").get<double>(), s.at("kl_rollbacks").get<int>());
            QVERIFY2(s.at("model_version").is_string() && s.at("not_published").is_null(), qPrintable(report));
            QVERIFY2(s.at("kl_after").get<double>() <= 1.0, qPrintable(report));
            QVERIFY2(s.at("selection_queries").get<int>() == 2 && s.at("reporting_queries").get<int>() == 2, qPrintable(report));
            QVERIFY2(s.at("report_pair_accuracy_after").get<double>() >= s.at("report_pair_accuracy_before").get<double>(), qPrintable(report));
        }
    }

    // A bound no step keeps: the round publishes nothing, and the summary says so with nulls and a
    // reason rather than a 0; the run is recorded as completed without a version.
    void nothingPublishedSaysWhy()
    {
        const auto r = cli({"train", "align", "--project", m_project, "--model", source("resources/models/tiny-random"), "--adapter",
                            m_dir.filePath("learned"), "--method", "dpo", "--set", "max_kl=1e-9", "--set", "max_steps=4", "--set",
                            "kl_check_steps=1", "--adapter-out", m_dir.filePath("unpublished"), "--json"},
                           600000);
        QVERIFY2(r.code == 0, qPrintable(r.err));
        const auto s = nlohmann::json::parse(r.out.trimmed().split('\n').last().toStdString());
        const auto report = QString::fromStdString(s.dump());
        QVERIFY2(s.at("model_version").is_null() && s.at("adapter").is_null(), qPrintable(report));
        QVERIFY2(s.at("pair_accuracy_after").is_null() && s.at("kl_after").is_null() && s.at("best_step").is_null(), qPrintable(report));
        QVERIFY2(s.at("report_pair_accuracy_after").is_null() && s.at("report_pair_accuracy_before").is_number(), qPrintable(report));
        QVERIFY2(s.at("not_published").get<std::string>().find("max_kl") != std::string::npos, qPrintable(report));
        QCOMPARE(s.at("kl_rollbacks").get<int>(), 4);
        QVERIFY(r.err.contains("nothing published"));
        QVERIFY(!fs::exists(m_dir.filePath("unpublished").toStdString()));
    }

    void newFamiliesTrainAlignAndScore_data()
    {
        QTest::addColumn<QString>("family");
        QTest::newRow("qwen2.5-vl") << "qwen2_5_vl";
        QTest::newRow("qwen3-vl") << "qwen3_vl";
    }

    void newFamiliesTrainAlignAndScore()
    {
        // A tiny checkpoint of each newer family in its Hub layout (tests/data/golden/families, whose
        // tensors transformers main's own outputs vouch for) with the tiny model's tokenizer: instruction
        // tuning, an alignment round from its adapter, scoring with the adapter and with the merged
        // export, all through the CLI as a user would.
        QFETCH(QString, family);
        const auto folder = fs::path(m_dir.filePath("base-" + family).toStdString());
        fs::create_directories(folder);
        for (const auto &e : fs::directory_iterator(source("tests/data/golden/families").toStdString() + "/" + family.toStdString() + "/model"))
            fs::copy_file(e.path(), folder / e.path().filename());
        for (const char *f : {"tokenizer.json", "tokenizer_config.json"})
            fs::copy_file(source("resources/models/tiny-random").toStdString() + "/" + f, folder / f);
        const auto base = QString::fromStdString(folder.string());
        const auto sft = m_dir.filePath("sft-" + family);
        const auto r = cli({"train", "sft", "--project", m_project, "--model", base, "--config", m_config, "--adapter-out", sft, "--json"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        const auto summary = nlohmann::json::parse(r.out.trimmed().split('\n').last().toStdString());
        QCOMPARE(summary.at("steps").get<int>(), 8);
        QVERIFY(std::isfinite(summary.at("train_loss_last").get<double>()));
        const auto config = m_dir.filePath("align-" + family + ".json");
        std::ofstream(config.toStdString()) << R"({"learning_rate": 1e-4, "max_steps": 3, "per_device_train_batch_size": 2})";
        const auto aligned = m_dir.filePath("grpo-" + family);
        const auto a = cli({"train", "align", "--project", m_project, "--model", base, "--adapter", sft, "--method", "pl-grpo",
                            "--config", config, "--adapter-out", aligned, "--json"},
                           600000);
        QVERIFY2(a.code == 0, qPrintable(a.err));
        QVERIFY(fs::exists(aligned.toStdString() + "/adapter_model.safetensors"));
        const auto merged = m_dir.filePath("merged-" + family);
        const auto m = cli({"merge", "--model", base, "--adapter", aligned, "--out", merged});
        QVERIFY2(m.code == 0, qPrintable(m.err));
        const auto config2 = nlohmann::json::parse(std::ifstream(merged.toStdString() + "/config.json"));
        QCOMPARE(QString::fromStdString(config2.at("model_type").get<std::string>()), family); // the family's own layout
        const auto viaMerged = cli({"score", "--model", merged, "--dataset", source("resources/demo/clipart-smoke"), "--out",
                                    m_dir.filePath("merged-" + family + ".trec")});
        const auto viaAdapter = cli({"score", "--model", base, "--adapter", aligned, "--dataset", source("resources/demo/clipart-smoke"),
                                     "--out", m_dir.filePath("adapter-" + family + ".trec")});
        QVERIFY2(viaMerged.code == 0 && viaAdapter.code == 0, qPrintable(viaMerged.err + viaAdapter.err));
        std::map<std::string, double> scores[2];
        for (int i = 0; i < 2; ++i) {
            std::ifstream in(m_dir.filePath((i ? "adapter-" : "merged-") + family + ".trec").toStdString());
            std::string q, q0, doc, tag;
            int rank = 0;
            double score = 0;
            while (in >> q >> q0 >> doc >> rank >> score >> tag)
                scores[i][q + " " + doc] = score;
        }
        QVERIFY(scores[0].size() > 100);
        QCOMPARE(scores[0].size(), scores[1].size());
        for (const auto &[key, v] : scores[0])
            QVERIFY2(std::abs(v - scores[1].at(key)) < 1e-4, key.c_str());
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
