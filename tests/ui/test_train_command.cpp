// SPDX-License-Identifier: GPL-3.0-or-later
// What the Train tab builds without widgets: the unirank-cli arguments of a request (only the settings
// that differ from the stage's defaults, as --set, strings that look like JSON quoted), the shell text
// of the command preview, fresh output folders, the chart smoothing (debiased EMA against hand-worked
// values) and the metric store; and that every setting of every stage has its documentation entry.
#include "core/training/align_config.h"
#include "core/training/setting_docs.h"
#include "core/training/sft_config.h"
#include "ui/train_command.h"
#include "ui/training_metrics.h"

#include <QDir>
#include <QTemporaryDir>
#include <QTest>

#include <cmath>

using namespace unirank;

class TestTrainCommand : public QObject {
    Q_OBJECT

private slots:
    void sftArguments()
    {
        ui::TrainRequest r;
        r.project = "/p/demo.unirank";
        r.model = "/m/clipart-demo";
        r.output = "/p/demo.models/sft-clipart-demo";
        r.overrides = {{"learning_rate", 0.001}, {"lr_scheduler_type", "linear"}, {"bf16", true}, {"label_loss", "true"}};
        const auto args = ui::trainArguments(r);
        QCOMPARE(args.mid(0, 6), (QStringList{"train", "sft", "--project", "/p/demo.unirank", "--model", "/m/clipart-demo"}));
        QVERIFY(args.contains("--adapter-out") && args.contains("--events") && !args.contains("--resume"));
        QVERIFY(!args.contains("--method") && !args.contains("--device"));
        QVERIFY(args.contains("learning_rate=0.001"));
        QVERIFY(args.contains("lr_scheduler_type=linear"));      // plain text stays plain
        QVERIFY(args.contains("bf16=true"));                     // JSON true
        QVERIFY(args.contains("label_loss=\"true\""));           // the string "true" stays a string
        QCOMPARE(args.count("--set"), 4);
    }

    void alignArguments()
    {
        ui::TrainRequest r;
        r.stage = ui::TrainRequest::Stage::Alignment;
        r.method = "dpo";
        r.project = "p.unirank";
        r.model = "base";
        r.adapter = "sft adapter";
        r.rounds = 2;
        r.device = "cuda";
        r.resume = true;
        r.overrides = {{"target_modules", {"q_proj", "v_proj"}}};
        const auto args = ui::trainArguments(r);
        QCOMPARE(args.mid(0, 2), (QStringList{"train", "align"}));
        QCOMPARE(args.at(args.indexOf("--method") + 1), QStringLiteral("dpo"));
        QCOMPARE(args.at(args.indexOf("--adapter") + 1), QStringLiteral("sft adapter"));
        QCOMPARE(args.at(args.indexOf("--rounds") + 1), QStringLiteral("2"));
        QCOMPARE(args.at(args.indexOf("--device") + 1), QStringLiteral("cuda"));
        QVERIFY(args.contains("--resume"));
        QVERIFY(args.contains("target_modules=[\"q_proj\",\"v_proj\"]"));
        QCOMPARE(r.kind(), QStringLiteral("dpo"));
        QCOMPARE(ui::stageDefaults(r).at("learning_rate").get<double>(),
                 training::AlignConfig::forMethod(training::AlignMethod::Dpo).learning_rate);
        const auto score = ui::scoreArguments("p.unirank", "", "sft-x", "cpu");
        QCOMPARE(score, (QStringList{"score", "--project", "p.unirank", "--model-version", "sft-x"}));
    }

    void shellQuoting()
    {
        QCOMPARE(ui::shellCommand("unirank-cli", {"train", "--set", "a=1", "/x y/z", "it's", ""}),
                 QStringLiteral("unirank-cli train --set a=1 '/x y/z' 'it'\\''s' ''"));
        QCOMPARE(ui::shellCommand("unirank-cli", {"--set", "m=[\"q\"]"}), QStringLiteral("unirank-cli --set 'm=[\"q\"]'"));
    }

    void freshFolders()
    {
        QTemporaryDir dir;
        const auto project = dir.filePath("demo.models");
        const auto first = ui::freshOutputFolder(project, "sft", "clipart-demo");
        QCOMPARE(first, dir.filePath("demo.models/sft-clipart-demo"));
        QVERIFY(QDir().mkpath(first + ".checkpoints")); // an unfinished run's checkpoints count as taken
        QCOMPARE(ui::freshOutputFolder(project, "sft", "clipart-demo"), first + "-2");
        QVERIFY(QDir().mkpath(first + "-2"));
        QCOMPARE(ui::freshOutputFolder(project, "sft", "clipart-demo"), first + "-3");
    }

    void smoothing()
    {
        const std::vector<QPointF> points{{1, 1.0}, {2, 3.0}, {3, NAN}, {4, 2.0}};
        const auto raw = ui::smoothed(points, 0);
        QCOMPARE(raw.size(), std::size_t(3)); // the NaN is skipped
        QCOMPARE(raw[1].y(), 3.0);
        // w = 0.5: averages 0.5, 1.75, 1.875; debiased by 1 - 0.5^t: 1, 2.333.., 2.142857..
        const auto s = ui::smoothed(points, 0.5);
        QCOMPARE(s[0].y(), 1.0);
        QVERIFY(std::abs(s[1].y() - 1.75 / 0.75) < 1e-12);
        QVERIFY(std::abs(s[2].y() - 1.875 / 0.875) < 1e-12);
        QCOMPARE(s[2].x(), 4.0);
        // A constant stays constant at every weight (no pull toward zero).
        const std::vector<QPointF> flat{{1, 5.0}, {2, 5.0}, {3, 5.0}};
        for (const auto p : ui::smoothed(flat, 0.9))
            QVERIFY(std::abs(p.y() - 5.0) < 1e-12);
    }

    void metricStore()
    {
        ui::TrainingMetrics m;
        m.add("loss", 2, 0.5);
        m.add("loss", 1, 0.9);
        m.add("loss", 2, 0.4); // a resumed run logs step 2 again
        QCOMPARE(m.series("loss").size(), std::size_t(2));
        QCOMPARE(m.series("loss")[0].x(), 1.0);
        QCOMPARE(m.series("loss")[1].y(), 0.4);
        QVERIFY(m.series("kl").empty() && !m.has("kl") && m.has("loss"));
        QCOMPARE(m.names(), QStringList{"loss"});
    }

    void everySettingIsDocumented()
    {
        const auto sft = training::SftConfig{}.toJson();
        const auto dpo = training::AlignConfig::forMethod(training::AlignMethod::Dpo).toJson();
        const auto grpo = training::AlignConfig::forMethod(training::AlignMethod::PlGrpo).toJson();
        for (const auto *defaults : {&sft, &dpo, &grpo})
            for (const auto &[key, value] : defaults->items()) {
                const auto *doc = training::findSettingDoc(key);
                QVERIFY2(doc, key.c_str());
                QVERIFY2(!doc->help.empty() && !doc->group.empty(), key.c_str());
                if (value.is_string() && !doc->choices.empty())
                    QVERIFY2(std::find(doc->choices.begin(), doc->choices.end(), value.get<std::string>()) != doc->choices.end(),
                             key.c_str());
            }
        // A setting said to apply to a stage is a key of that stage's configuration.
        for (const auto &doc : training::settingDocs()) {
            if (doc.scope & training::kScopeSft)
                QVERIFY2(sft.contains(doc.key), doc.key.c_str());
            if (doc.scope & training::kScopeDpo)
                QVERIFY2(dpo.contains(doc.key), doc.key.c_str());
            if (doc.scope & training::kScopePlGrpo)
                QVERIFY2(grpo.contains(doc.key), doc.key.c_str());
        }
        QVERIFY(training::findSettingDoc("listwise_weight")->scope == training::kScopeSft);
        QVERIFY(training::findSettingDoc("num_generations")->scope == training::kScopePlGrpo);
        QVERIFY(training::findSettingDoc("label_smoothing")->scope == training::kScopeDpo);
        QVERIFY(training::findSettingDoc("no_such_key") == nullptr);
    }
};

QTEST_GUILESS_MAIN(TestTrainCommand)
#include "test_train_command.moc"
