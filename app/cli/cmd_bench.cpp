// SPDX-License-Identifier: GPL-3.0-or-later
// unirank-cli bench storage --dataset DIR [--labels N] [--json]
//
// Measures, in one run on this machine: import throughput (candidates/s, whole import and the write
// transaction alone) into a fresh temporary project, and label-write latency as an annotator sees it
// (submit one label, wait for its commit) at p50/p99, plus burst throughput when many writes queue up
// and the writer batches them.
#include "cli_common.h"

#include "storage/dataset_import.h"
#include "storage/label_writer.h"
#include "storage/repo/catalog.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <iostream>
#include <random>

namespace fs = std::filesystem;

namespace unirank::cli {
namespace {

using Clock = std::chrono::steady_clock;

double percentile(std::vector<double> v, double p)
{
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    const auto idx = static_cast<std::size_t>(std::min<double>(static_cast<double>(v.size() - 1),
                                                                p * static_cast<double>(v.size() - 1) + 0.5));
    return v[idx];
}

struct TempDir {
    fs::path path;
    TempDir()
    {
        std::string tmpl = (fs::temp_directory_path() / "unirank-bench-XXXXXX").string();
        if (!mkdtemp(tmpl.data()))
            throw std::runtime_error("cannot create a temporary folder");
        path = tmpl;
    }
    ~TempDir()
    {
        std::error_code ec;
        fs::remove_all(path, ec);
    }
};

void benchStorage(const std::string &dataset, int labels, bool json)
{
    TempDir tmp;
    const auto file = tmp.path / "bench.unirank";
    auto project = require(storage::Project::create(file));

    const auto t0 = Clock::now();
    const auto summary = require(storage::importDataset(*project, dataset, {}));
    const double importSeconds = std::chrono::duration<double>(Clock::now() - t0).count();

    const auto queries = storage::listQueries(project->db(), summary.collectionId);
    const auto candidates = storage::listCandidates(project->db(), summary.collectionId);
    project.reset();

    std::mt19937 rng(20261127);
    std::uniform_int_distribution<std::size_t> pickQ(0, queries.size() - 1), pickC(0, candidates.size() - 1);
    const auto randomPair = [&] {
        storage::PairLabelWrite w;
        w.queryId = queries[pickQ(rng)].id;
        w.leftId = candidates[pickC(rng)].id;
        do
            w.rightId = candidates[pickC(rng)].id;
        while (w.rightId == w.leftId);
        w.outcome = static_cast<PairOutcome>(rng() % 4);
        w.annotator = "bench";
        return w;
    };

    std::vector<double> latencyMs;
    {
        storage::LabelWriter writer(file);
        for (int i = 0; i < labels; ++i) {
            const auto s = Clock::now();
            if (i % 2 == 0) {
                require(writer.addPair(randomPair()).get());
            } else {
                storage::GradedLabelWrite g{queries[pickQ(rng)].id, candidates[pickC(rng)].id, static_cast<int>(rng() % 4),
                                            "bench"};
                require(writer.addGraded(g).get());
            }
            latencyMs.push_back(std::chrono::duration<double, std::milli>(Clock::now() - s).count());
        }
    }
    double burstPerSecond = 0;
    {
        storage::LabelWriter writer(file);
        std::vector<std::future<Result<std::int64_t>>> pending;
        const auto s = Clock::now();
        for (int i = 0; i < labels; ++i)
            pending.push_back(writer.addPair(randomPair()));
        for (auto &f : pending)
            require(f.get());
        burstPerSecond = labels / std::chrono::duration<double>(Clock::now() - s).count();
    }

    const double candPerSecond = static_cast<double>(summary.candidates) / importSeconds;
    const double writePerSecond = static_cast<double>(summary.candidates) / summary.writeSeconds;
    const double rowsPerSecondWrite =
        static_cast<double>(summary.candidates + summary.qrels + summary.runEntries + summary.queries) / summary.writeSeconds;
    if (json) {
        nlohmann::ordered_json j{{"dataset", fs::absolute(dataset).string()},
                                 {"queries", summary.queries},
                                 {"candidates", summary.candidates},
                                 {"images", summary.images},
                                 {"qrels", summary.qrels},
                                 {"run_entries", summary.runEntries},
                                 {"import_seconds", importSeconds},
                                 {"import_candidates_per_s", candPerSecond},
                                 {"read_check_seconds", summary.readSeconds},
                                 {"write_seconds", summary.writeSeconds},
                                 {"write_candidates_per_s", writePerSecond},
                                 {"write_rows_per_s", rowsPerSecondWrite},
                                 {"label_writes", labels},
                                 {"label_latency_ms_p50", percentile(latencyMs, 0.50)},
                                 {"label_latency_ms_p99", percentile(latencyMs, 0.99)},
                                 {"label_latency_ms_max", percentile(latencyMs, 1.0)},
                                 {"label_burst_per_s", burstPerSecond}};
        std::cout << j.dump(2) << "\n";
        return;
    }
    std::printf("storage benchmark on %s\n", fs::absolute(dataset).c_str());
    std::printf("  import: %zu candidates (%zu images), %zu queries, %zu qrels, %zu list entries\n", summary.candidates,
                summary.images, summary.queries, summary.qrels, summary.runEntries);
    std::printf("  import throughput: %.0f candidates/s end to end (%.2f s: read+check %.2f s incl. decoding every "
                "image, transaction %.2f s)\n",
                candPerSecond, importSeconds, summary.readSeconds, summary.writeSeconds);
    std::printf("  write transaction alone: %.0f candidates/s, %.0f rows/s\n", writePerSecond, rowsPerSecondWrite);
    std::printf("  label write latency (submit -> committed, synchronous=FULL, %d writes): p50 %.2f ms, p99 %.2f ms, "
                "max %.2f ms\n",
                labels, percentile(latencyMs, 0.5), percentile(latencyMs, 0.99), percentile(latencyMs, 1.0));
    std::printf("  label burst (%d queued writes, batched commits): %.0f labels/s\n", labels, burstPerSecond);
}

} // namespace

void addBenchStorageCommand(CLI::App &bench)
{
    struct Args {
        std::string dataset;
        int labels = 2000;
        bool json = false;
    };
    auto a = std::make_shared<Args>();
    auto *storageCmd = bench.add_subcommand("storage", "Import throughput and label-write latency");
    storageCmd->add_option("--dataset", a->dataset, "BEIR dataset folder to import (e.g. clipart-hybrid/dev)")
        ->required()
        ->check(CLI::ExistingDirectory);
    storageCmd->add_option("--labels", a->labels, "Number of label writes to time")->check(CLI::Range(10, 1000000));
    storageCmd->add_flag("--json", a->json, "Print the figures as JSON");
    storageCmd->callback([a] { benchStorage(a->dataset, a->labels, a->json); });
}

} // namespace unirank::cli
