// SPDX-License-Identifier: GPL-3.0-or-later
// Test helper for tests/storage/test_crash_consistency: repeats one durable operation forever and
// prints "ack <n> ..." on stdout each time one has returned (is acknowledged). The test kills it with
// SIGKILL at a random moment and checks what is on disk.
//
//   crash_child import PROJECT DATASET START  imports DATASET again and again as collections cSTART, ...
//   crash_child export PROJECT OUT            exports the project's collection to OUT/ds again and again
//   crash_child checkpoint OUT                writes training checkpoints checkpoint-1, -2, ... and
//                                             republishes OUT/best from each (AdamW state included)
#include "core/model/torch_io.h"
#include "core/training/checkpoints.h"
#include "storage/dataset_export.h"
#include "storage/dataset_import.h"

#include <cstdio>
#include <cstring>

using namespace unirank;
namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail(const std::string &what)
{
    std::fprintf(stderr, "crash_child: %s\n", what.c_str());
    std::_Exit(3);
}

void ack(const std::string &line)
{
    std::printf("ack %s\n", line.c_str());
    std::fflush(stdout);
}

int importLoop(const fs::path &projectFile, const fs::path &dataset, int start)
{
    auto project = storage::Project::open(projectFile);
    if (!project)
        fail(project.error().message);
    for (int k = start;; ++k) {
        storage::ImportOptions options;
        options.collectionName = "c" + std::to_string(k);
        const auto summary = storage::importDataset(**project, dataset, options);
        if (!summary)
            fail(summary.error().message);
        ack(options.collectionName + " " + std::to_string(summary->queries) + " " + std::to_string(summary->candidates) +
            " " + std::to_string(summary->qrels) + " " + std::to_string(summary->runEntries));
    }
}

int exportLoop(const fs::path &projectFile, const fs::path &out)
{
    auto project = storage::Project::open(projectFile);
    if (!project)
        fail(project.error().message);
    for (int k = 0;; ++k) {
        const auto written = storage::exportDataset(**project, out / "ds");
        if (!written)
            fail(written.error().message);
        ack(std::to_string(k) + " " + std::to_string(*written));
    }
}

/// Model files of step `step`: four 128x128 tensors whose values encode the step.
std::vector<std::pair<std::string, torch::Tensor>> modelAt(const std::vector<torch::Tensor> &params)
{
    std::vector<std::pair<std::string, torch::Tensor>> out;
    for (std::size_t i = 0; i < params.size(); ++i)
        out.emplace_back("w" + std::to_string(i), params[i].detach());
    return out;
}

int checkpointLoop(const fs::path &out)
{
    torch::manual_seed(1);
    std::vector<torch::Tensor> params;
    for (int i = 0; i < 4; ++i)
        params.push_back(torch::randn({128, 128}).requires_grad_(true));
    torch::optim::AdamW optimizer(params, torch::optim::AdamWOptions(1e-2));
    for (std::int64_t step = 1;; ++step) {
        optimizer.zero_grad();
        torch::Tensor loss = torch::zeros({});
        for (const auto &p : params)
            loss = loss + (p * p).sum();
        loss.backward();
        optimizer.step();
        double checksum = 0;
        for (const auto &p : params)
            checksum += p.detach().sum().item<double>();
        const nlohmann::json state{{"global_step", step}, {"checksum", checksum}};
        training::writeCheckpoint(
            out, step, [&](const fs::path &dir) { model::writeTensors(dir / "model.safetensors", modelAt(params)); },
            optimizer, state);
        training::publishBest(out, training::checkpointDir(out, step));
        char line[64];
        std::snprintf(line, sizeof line, "%lld %.17g", static_cast<long long>(step), checksum);
        ack(line);
    }
}

} // namespace

int main(int argc, char **argv)
{
    try {
        if (argc == 5 && std::strcmp(argv[1], "import") == 0)
            return importLoop(argv[2], argv[3], std::atoi(argv[4]));
        if (argc == 4 && std::strcmp(argv[1], "export") == 0)
            return exportLoop(argv[2], argv[3]);
        if (argc == 3 && std::strcmp(argv[1], "checkpoint") == 0)
            return checkpointLoop(argv[2]);
    } catch (const std::exception &e) {
        fail(e.what());
    }
    std::fprintf(stderr, "usage: %s import PROJECT DATASET START | export PROJECT OUT | checkpoint OUT\n", argv[0]);
    return 2;
}
