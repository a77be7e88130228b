// SPDX-License-Identifier: GPL-3.0-or-later
// Shared by the end-to-end reference tests: a reference file made by tools/golden/combine_margins.py
// ({"checkpoint": {"command", "sha256"}, "templates": {name: {"float32", "float64"}}}), the checkpoint
// it names rebuilt with `unirank-cli random-checkpoint`, and `unirank-cli score` compared with it.
//
// Tolerance from the data: the reference run in float64 moves each margin by at most S from its
// float32 value; an independent float32 implementation may differ by kIndependentFactor x S.
#pragma once

#include "cli_run.h"
#include "core/util/atomic_file.h"
#include "core/util/sha256.h"
#include "test_support.h"

#include <QTest>

#include <nlohmann/json.hpp>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>

namespace unirank::test {

constexpr double kIndependentFactor = 10.0; // as core/model/parity.h

inline std::map<std::string, std::map<std::string, double>> readRun(const std::filesystem::path &file)
{
    std::map<std::string, std::map<std::string, double>> run;
    std::ifstream in(file);
    std::string q, q0, d, tag;
    int rank = 0;
    double score = 0;
    while (in >> q >> q0 >> d >> rank >> score >> tag)
        run[q][d] = score;
    return run;
}

/// Rebuilds the reference's checkpoint into `model` with its tokenizer; QVERIFY failures on error.
inline void rebuildCheckpoint(const char *cli, const nlohmann::json &reference, const std::filesystem::path &model)
{
    QStringList args = QString::fromStdString(reference.at("checkpoint").at("command").get<std::string>())
                           .split(' ', Qt::SkipEmptyParts);
    args << "--out" << QString::fromStdString(model.string());
    const auto r = runCli(cli, args, {.timeoutMs = 600000, .stdinData = {}, .oneThread = false});
    QVERIFY2(r.code == 0, qPrintable(r.err));
    for (const auto &[file, hash] : reference.at("checkpoint").at("sha256").items())
        QVERIFY2(sha256File(model / file) == hash.get<std::string>(),
                 qPrintable(QString::fromStdString(file + " differs from the checkpoint the reference scored: "
                                                          "the generator changed; remake the reference (tools/golden)")));
    std::filesystem::copy_file(std::filesystem::path(UNIRANK_TEST_TOKENIZER), model / "tokenizer.json");
    std::filesystem::copy_file(goldenDir() / "tokenizer/tokenizer_config.json", model / "tokenizer_config.json");
}

/// Scores `data` with the model folder and compares every margin of template `name`; returns the
/// number of pairs compared (0 after a failed QVERIFY).
inline int scoreAndCompare(const char *cli, const nlohmann::json &reference, const std::string &name,
                           const std::filesystem::path &modelDir, const std::filesystem::path &data,
                           const std::filesystem::path &out, const QStringList &extra)
{
    const auto &ref = reference.at("templates").at(name);
    double spread = 0;
    for (const auto &[q, docs] : ref.at("float32").items())
        for (const auto &[d, m] : docs.items())
            spread = std::max(spread, std::abs(m.get<double>() - ref.at("float64").at(q).at(d).get<double>()));
    [&] { QVERIFY(spread > 0); }();
    const double tolerance = kIndependentFactor * spread;
    QStringList args{"score", "--model", QString::fromStdString(modelDir.string()), "--dataset",
                     QString::fromStdString(data.string()), "--out", QString::fromStdString(out.string())};
    const auto r = runCli(cli, args + extra, {.timeoutMs = 1200000, .stdinData = {}, .oneThread = false});
    if (r.code != 0) {
        [&] { QVERIFY2(r.code == 0, qPrintable(r.err)); }();
        return 0;
    }
    const auto run = readRun(out);
    double worst = 0;
    int pairs = 0;
    for (const auto &[q, docs] : ref.at("float32").items())
        for (const auto &[d, m] : docs.items()) {
            if (!run.count(q) || !run.at(q).count(d)) {
                [&] { QFAIL(qPrintable(QString::fromStdString(q + "/" + d + " not scored"))); }();
                return 0;
            }
            const double diff = std::abs(run.at(q).at(d) - m.get<double>());
            worst = std::max(worst, diff);
            if (diff > tolerance) {
                [&] {
                    QFAIL(qPrintable(QString("%1 %2/%3: ours %4, transformers %5 (tolerance %6)")
                                         .arg(QString::fromStdString(name), QString::fromStdString(q), QString::fromStdString(d))
                                         .arg(run.at(q).at(d), 0, 'g', 9)
                                         .arg(m.get<double>(), 0, 'g', 9)
                                         .arg(tolerance)));
                }();
                return 0;
            }
            ++pairs;
        }
    qInfo("%s%s: %d pairs, max |margin - transformers| %.3g, tolerance %.3g (reference float64 spread %.3g)", name.c_str(),
          qPrintable(extra.join(" ")), pairs, worst, tolerance, spread);
    return pairs;
}

} // namespace unirank::test
