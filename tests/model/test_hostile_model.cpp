// SPDX-License-Identifier: GPL-3.0-or-later
// Hostile model folders and checkpoints (docs/hardening.md): only safetensors is ever loaded — a
// folder or adapter that holds only a pickle (pytorch_model.bin, adapter_model.bin) is refused by name,
// a checkpoint's optimizer state is safetensors (an old optimizer.pt is never handed to the TorchScript
// loader), and NaN/Inf weights are refused with the tensor's name. The AdamW state round-trips exactly.
#include "core/model/loader.h"
#include "core/model/lora.h"
#include "core/model/torch_io.h"
#include "core/training/checkpoints.h"
#include "core/text/tokenizer.h"
#include "core/training/optimizer_state.h"
#include "test_support.h"

#include <QDirIterator>
#include <QTemporaryDir>
#include <QTest>

#include <sys/stat.h>

using namespace unirank;
namespace fs = std::filesystem;

namespace {
fs::path tinyModel() { return test::sourceDir() / "resources" / "models" / "tiny-random"; }

fs::path copyModel(const fs::path &to)
{
    fs::create_directories(to);
    for (const auto &e : fs::directory_iterator(tinyModel()))
        fs::copy_file(e.path(), to / e.path().filename());
    return to;
}

/// Rewrites `file` with element 0 of tensor `name` set to `value`.
void poison(const fs::path &file, const std::string &name, float value)
{
    auto tensors = model::readSafetensors(file).value();
    std::vector<std::pair<std::string, torch::Tensor>> out;
    for (auto &[n, t] : tensors) {
        if (n == name)
            t.view(-1)[0] = value;
        out.emplace_back(n, t);
    }
    model::writeTensors(file, out);
}

/// A fresh PEFT adapter folder for the tiny model.
void makeAdapter(const fs::path &dir)
{
    auto model = model::loadQwen2VL(tinyModel()).value();
    model::addLoraAdapters(model, model::LoraConfig{});
    model::saveLoraAdapter(model, model::LoraConfig{}, dir, "tiny-random");
}

QString errorOf(const auto &result) { return result ? QString() : QString::fromStdString(result.error().message); }
} // namespace

class TestHostileModel : public QObject {
    Q_OBJECT
    QTemporaryDir m_tmp;
    fs::path root() const { return m_tmp.path().toStdString(); }

private slots:
    void picklesAreRefused()
    {
        const auto dir = copyModel(root() / "pickled");
        fs::remove(dir / "model.safetensors");
        test::writeText(dir / "pytorch_model.bin", "PK\x03\x04 not really a zip, never opened");
        const auto loaded = model::loadQwen2VL(dir);
        QVERIFY(!loaded);
        QVERIFY2(errorOf(loaded).contains("holds only pytorch_model.bin, a pickle") &&
                     errorOf(loaded).contains("only safetensors is loaded"),
                 qPrintable(errorOf(loaded)));

        auto base = model::loadQwen2VL(tinyModel()).value();
        const auto adapter = root() / "pickled-adapter";
        makeAdapter(adapter);
        fs::remove(adapter / "adapter_model.safetensors");
        test::writeText(adapter / "adapter_model.bin", "pickle");
        const auto merged = model::mergeLoraAdapter(base, adapter);
        QVERIFY2(!merged && errorOf(merged).contains("adapter_model.bin: a pickle"), qPrintable(errorOf(merged)));
        const auto loadedAdapter = model::loadLoraAdapter(base, adapter);
        QVERIFY2(!loadedAdapter && errorOf(loadedAdapter).contains("only safetensors is loaded"),
                 qPrintable(errorOf(loadedAdapter)));
    }

    void fifosAreRefusedAtOnce_data()
    {
        QTest::addColumn<QString>("file");
        QTest::newRow("config") << "config.json";
        QTest::newRow("weights") << "model.safetensors";
        QTest::newRow("tokenizer") << "tokenizer.json";
    }

    void fifosAreRefusedAtOnce()
    {
        // Opening a FIFO for reading waits for a writer; a model folder must not be able to hang us.
        QFETCH(QString, file);
        const auto dir = copyModel(root() / ("fifo-" + file.toStdString()));
        fs::remove(dir / file.toStdString());
        QCOMPARE(::mkfifo((dir / file.toStdString()).c_str(), 0600), 0);
        QString error;
        if (file == "tokenizer.json")
            error = errorOf(text::Tokenizer::load(dir / "tokenizer.json"));
        else
            error = errorOf(model::loadQwen2VL(dir));
        QVERIFY2(error.contains("not a regular file"), qPrintable(error));
    }

    void nonFiniteWeightsAreRefused_data()
    {
        QTest::addColumn<float>("value");
        QTest::newRow("nan") << std::numeric_limits<float>::quiet_NaN();
        QTest::newRow("+inf") << std::numeric_limits<float>::infinity();
        QTest::newRow("-inf") << -std::numeric_limits<float>::infinity();
    }

    void nonFiniteWeightsAreRefused()
    {
        QFETCH(float, value);
        const auto dir = copyModel(root() / ("poisoned-" + std::string(QTest::currentDataTag())));
        const std::string name = "model.layers.0.self_attn.q_proj.weight";
        poison(dir / "model.safetensors", name, value);
        QVERIFY(!torch::isfinite(model::readSafetensors(dir / "model.safetensors").value().at(name)).all().item<bool>());
        const auto loaded = model::loadQwen2VL(dir);
        QVERIFY2(!loaded, name.c_str());
        QVERIFY2(errorOf(loaded).contains(QString::fromStdString("tensor '" + name + "'")) &&
                     errorOf(loaded).contains("holds NaN or infinite values"),
                 qPrintable(errorOf(loaded)));

        // The same in an adapter.
        auto base = model::loadQwen2VL(tinyModel()).value();
        const auto adapter = root() / ("adapter-" + std::string(QTest::currentDataTag()));
        makeAdapter(adapter);
        const auto weights = model::readSafetensors(adapter / "adapter_model.safetensors").value();
        poison(adapter / "adapter_model.safetensors", weights.begin()->first, value);
        const auto merged = model::mergeLoraAdapter(base, adapter);
        QVERIFY2(!merged && errorOf(merged).contains("holds NaN or infinite values"), qPrintable(errorOf(merged)));
    }

    void optimizerStateRoundTripsAndOldPickleIsNotLoaded()
    {
        torch::manual_seed(3);
        const auto make = [] {
            std::vector<torch::Tensor> p{torch::randn({5, 3}).requires_grad_(true), torch::randn({7}).requires_grad_(true)};
            return p;
        };
        const auto stepOnce = [](torch::optim::AdamW &opt, std::vector<torch::Tensor> &params) {
            opt.zero_grad();
            auto loss = (params[0] * params[0]).sum() + params[1].pow(3).sum();
            loss.backward();
            opt.step();
        };
        auto params = make();
        std::vector<torch::Tensor> twin;
        for (const auto &p : params)
            twin.push_back(p.detach().clone().requires_grad_(true));
        torch::optim::AdamW a(params, torch::optim::AdamWOptions(0.1)), b(twin, torch::optim::AdamWOptions(0.1));
        for (int i = 0; i < 3; ++i)
            stepOnce(a, params);
        const auto file = root() / "optimizer.safetensors";
        training::saveOptimizerState(a, file);
        // b gets a's parameters and state from the file; both then take the same steps.
        {
            torch::NoGradGuard g;
            for (std::size_t i = 0; i < params.size(); ++i)
                twin[i].copy_(params[i]);
        }
        training::loadOptimizerState(b, file);
        for (int i = 0; i < 3; ++i) {
            stepOnce(a, params);
            stepOnce(b, twin);
        }
        for (std::size_t i = 0; i < params.size(); ++i)
            QVERIFY(torch::equal(params[i], twin[i]));

        // A state of another model (other shapes) is refused, naming the tensor.
        std::vector<torch::Tensor> other{torch::zeros({2, 2}, torch::requires_grad()), torch::zeros({7}, torch::requires_grad())};
        torch::optim::AdamW c(other, torch::optim::AdamWOptions(0.1));
        QVERIFY_THROWS_EXCEPTION(InputError, training::loadOptimizerState(c, file));

        // A checkpoint from an earlier build (optimizer.pt only): refused without opening it.
        const auto old = root() / "old-checkpoint";
        fs::create_directories(old);
        test::writeText(old / "optimizer.pt", "a TorchScript archive would be here");
        test::writeText(old / "trainer_state.json", R"({"global_step": 3})");
        try {
            training::readCheckpoint(old, a);
            QFAIL("an optimizer.pt checkpoint was resumed");
        } catch (const InputError &e) {
            QVERIFY2(QString(e.what()).contains("optimizer.pt, which is not loaded"), e.what());
        }
    }

    void noPickleOrTorchScriptLoaderInTheSources()
    {
        // A regression guard: the only deserialisers of outside tensors are the safetensors readers.
        QStringList hits;
        for (const char *dir : {"core", "storage", "ui", "app"}) {
            QDirIterator it(QString::fromStdString((test::sourceDir() / dir).string()), {"*.cpp", "*.h"}, QDir::Files,
                            QDirIterator::Subdirectories);
            while (it.hasNext()) {
                QFile f(it.next());
                QVERIFY(f.open(QIODevice::ReadOnly));
                const auto text = QString::fromUtf8(f.readAll());
                for (const char *call : {"torch::load(", "jit::load(", "pickle_load(", "torch::jit::unpickle", "_load_for_mobile("})
                    if (text.contains(QLatin1String(call)))
                        hits << f.fileName() + ": " + call;
            }
        }
        QVERIFY2(hits.isEmpty(), qPrintable(hits.join('\n')));
    }
};

QTEST_GUILESS_MAIN(TestHostileModel)
#include "test_hostile_model.moc"
