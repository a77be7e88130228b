// SPDX-License-Identifier: GPL-3.0-or-later
// What the Train tab relies on from unirank-cli, end to end with the tiny model: `train settings`
// lists every key with the stage's default; `--set KEY=VALUE` overrides the configuration (and a bad
// key or form is refused, named); `--events` writes one JSON object per stdout line, start first and
// summary last, with a progress event per step; `score --model-version` scores a registered version,
// an aligned adapter on its base included, without registering another; `demo` builds the demo project.
#include "cli_run.h"
#include "storage/project.h"
#include "storage/project_eval.h"
#include "storage/repo/catalog.h"
#include "storage/repo/models.h"
#include "storage/repo/training.h"

#include "core/training/align_config.h"
#include "core/training/sft_config.h"

#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <map>
#include <set>

using namespace unirank;
namespace fs = std::filesystem;

namespace {

using Run = test::CliRun;

Run cli(const QStringList &args) { return test::runCli(QStringLiteral(UNIRANK_CLI), args, {240000, {}, true}); }

QString source(const char *relative) { return test::sourcePath(relative); }

std::vector<nlohmann::json> events(const QString &out)
{
    std::vector<nlohmann::json> all;
    for (const auto &line : out.split('\n', Qt::SkipEmptyParts))
        all.push_back(nlohmann::json::parse(line.toStdString())); // throws (fails the test) on a non-JSON line
    return all;
}

} // namespace

class TestCliEvents : public QObject {
    Q_OBJECT
    QTemporaryDir m_dir;
    QString m_project;
    std::string m_sftVersion;

private slots:
    void initTestCase()
    {
        m_project = m_dir.filePath("e.unirank");
        QCOMPARE(cli({"init", m_project}).code, 0);
        QCOMPARE(cli({"import", m_project, "--dataset", source("resources/demo/clipart-smoke")}).code, 0);
    }

    void settingsList()
    {
        const auto sft = cli({"train", "settings", "--method", "sft", "--json"});
        QVERIFY2(sft.code == 0, qPrintable(sft.err));
        const auto list = nlohmann::json::parse(sft.out.toStdString());
        const auto defaults = training::SftConfig{}.toJson();
        QCOMPARE(list.size(), defaults.size()); // every key of the configuration, each once
        for (const auto &s : list) {
            QVERIFY(defaults.contains(s.at("key")));
            QVERIFY2(s.at("default") == defaults.at(s.at("key")), s.dump().c_str());
            QVERIFY(!s.at("help").get<std::string>().empty());
        }
        const auto dpo = nlohmann::json::parse(cli({"train", "settings", "--method", "dpo", "--json"}).out.toStdString());
        const auto keys = [](const nlohmann::json &l) {
            std::set<std::string> k;
            for (const auto &s : l)
                k.insert(s.at("key").get<std::string>());
            return k;
        };
        QVERIFY(keys(dpo).contains("label_smoothing") && !keys(dpo).contains("num_generations"));
        QVERIFY(!keys(dpo).contains("listwise_weight"));
        for (const auto &s : dpo)
            if (s.at("key") == "learning_rate")
                QCOMPARE(s.at("default").get<double>(), training::AlignConfig::forMethod(training::AlignMethod::Dpo).learning_rate);
        QVERIFY(cli({"train", "settings", "--method", "sft"}).out.contains("learning_rate"));
    }

    void eventsAndSet()
    {
        const auto out = m_dir.filePath("sft-out");
        const auto r = cli({"train", "sft", "--project", m_project, "--model", source("resources/models/tiny-random"), "--adapter-out",
                            out, "--set", "max_steps=3", "--set", "learning_rate=1e-3", "--set", "per_device_train_batch_size=4",
                            "--set", "lr_scheduler_type=linear", "--set", "max_candidates_per_query=8", "--events"});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        const auto all = events(r.out);
        QVERIFY(all.size() >= 5);
        QVERIFY(all.front().at("event") == "start");
        QVERIFY(all.back().at("event") == "summary");
        std::vector<int> steps;
        bool loss = false;
        for (const auto &e : all) {
            if (e.at("event") == "progress") {
                steps.push_back(e.at("step").get<int>());
                QCOMPARE(e.at("total_steps").get<int>(), 3);
                QVERIFY(e.at("eta_s").is_number() || e.at("eta_s").is_null());
            }
            if (e.at("event") == "metrics" && e.at("values").contains("loss"))
                loss = true;
        }
        QCOMPARE(steps, (std::vector<int>{1, 2, 3}));
        QVERIFY(loss);
        const auto &summary = all.back();
        QCOMPARE(summary.at("steps").get<int>(), 3);
        m_sftVersion = summary.at("model_version").get<std::string>();
        // --set reached the configuration the run recorded.
        auto project = std::move(storage::Project::open(m_project.toStdString()).value());
        const auto run = storage::findTrainingRun(project->db(), all.front().at("training_run").get<std::int64_t>());
        QVERIFY(run);
        QCOMPARE(run->config.at("config").at("learning_rate").get<double>(), 1e-3);
        QCOMPARE(run->config.at("config").at("lr_scheduler_type").get<std::string>(), "linear");
        QCOMPARE(storage::listTrainingRuns(project->db()).front().id, run->id);

        const auto unknown = cli({"train", "sft", "--project", m_project, "--model", source("resources/models/tiny-random"),
                                  "--adapter-out", m_dir.filePath("x"), "--set", "learning_rat=1"});
        QCOMPARE(unknown.code, 1);
        QVERIFY2(unknown.err.contains("learning_rat") && unknown.err.contains("--set"), qPrintable(unknown.err));
        const auto malformed = cli({"train", "sft", "--project", m_project, "--model", source("resources/models/tiny-random"),
                                    "--adapter-out", m_dir.filePath("x"), "--set", "learning_rate"});
        QCOMPARE(malformed.code, 1);
        QVERIFY2(malformed.err.contains("KEY=VALUE"), qPrintable(malformed.err));
    }

    void scoreRegisteredVersions()
    {
        QVERIFY(!m_sftVersion.empty());
        auto project = std::move(storage::Project::open(m_project.toStdString()).value());
        const auto sft = storage::findModelVersion(project->db(), m_sftVersion);
        QVERIFY(sft);
        // An aligned adapter continues the instruction-tuned one: its parent is that adapter.
        const auto a = cli({"train", "align", "--project", m_project, "--model", source("resources/models/tiny-random"), "--adapter",
                            QString::fromStdString(sft->path), "--adapter-out", m_dir.filePath("aligned"), "--set", "max_steps=2",
                            "--set", "max_kl=1000", "--events"});
        QVERIFY2(a.code == 0, qPrintable(a.err));
        const auto aligned = events(a.out).back().at("model_version").get<std::string>();
        const auto versionsBefore = storage::listModelVersions(project->db()).size();
        for (const auto &name : {m_sftVersion, aligned}) {
            const auto v = storage::findModelVersion(project->db(), name);
            QVERIFY(v);
            const auto r = cli({"score", "--project", m_project, "--model-version", QString::fromStdString(name)});
            QVERIFY2(r.code == 0, qPrintable(r.err));
            QVERIFY(storage::latestScoreRun(project->db(), v->id, storage::listCollections(project->db()).front().id));
        }
        QCOMPARE(storage::listModelVersions(project->db()).size(), versionsBefore); // nothing registered again
        const auto folders = storage::versionFolders(project->db(), storage::findModelVersion(project->db(), aligned)->id);
        QVERIFY(folders);
        QCOMPARE(fs::path(folders->model).filename().string(), "tiny-random");
        QCOMPARE(cli({"score", "--project", m_project, "--model-version", "no-such"}).code, 1);
        QCOMPARE(cli({"score", "--dataset", source("resources/demo/clipart-smoke"), "--model-version", "x"}).code, 1);
    }

    void demoProject()
    {
        const auto file = m_dir.filePath("demo/demo.unirank");
        const auto r = cli({"demo", file});
        QVERIFY2(r.code == 0, qPrintable(r.err));
        QVERIFY(r.out.contains("ndcg_cut_10") && r.out.contains("demo project:"));
        {
            auto project = std::move(storage::Project::open(file.toStdString()).value());
            const auto collection = storage::listCollections(project->db());
            QCOMPARE(collection.size(), std::size_t(1));
            for (const char *name : {"clipart-tiny", "clipart-demo"}) {
                const auto model = storage::findModelVersion(project->db(), name);
                QVERIFY2(model, name);
                const auto run = storage::latestScoreRun(project->db(), model->id, collection.front().id);
                QVERIFY(run);
                QVERIFY(!storage::listEvaluations(project->db(), *run).empty());
            }
            // The demo model ranks its own data well above the first stage (its README has the figures).
            storage::ProjectEvalOptions o;
            o.report.eval.metrics = {"map"};
            o.store = false;
            const auto report = storage::evaluateProject(*project, o).value();
            std::map<std::string, double> map;
            for (const auto &run : report.json.at("runs"))
                map[run.at("name").get<std::string>()] = run.at("mean").at("map").get<double>();
            QVERIFY2(map.at("clipart-demo") > map.at("clipart-tiny") + 0.2, report.json.dump().c_str());
        }
        const auto again = cli({"demo", file});
        QCOMPARE(again.code, 1);
        QVERIFY(again.err.contains("--replace"));
        QVERIFY2(cli({"demo", file, "--replace"}).code == 0, "a rebuilt demo project");
        // Nothing half-made survives a failed build.
        const auto broken = m_dir.filePath("broken.unirank");
        QCOMPARE(cli({"demo", broken, "--model", m_dir.filePath("sft-out")}).code == 0, false);
        QVERIFY(!fs::exists(broken.toStdString()));
        QVERIFY(!fs::exists(m_dir.filePath("broken.media").toStdString()));
    }
};

QTEST_GUILESS_MAIN(TestCliEvents)
#include "test_cli_events.moc"
