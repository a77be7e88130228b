// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/training/checkpoints.h"

#include "core/util/atomic_file.h"
#include "core/util/json_text.h"
#include "core/util/error.h"
#include "core/training/optimizer_state.h"

#include <ATen/CPUGeneratorImpl.h>

#include <mutex>

namespace fs = std::filesystem;

namespace unirank::training {
namespace {

std::string toHex(const torch::Tensor &bytes)
{
    const auto t = bytes.contiguous();
    const auto *p = t.data_ptr<std::uint8_t>();
    static const char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(static_cast<std::size_t>(t.numel()) * 2);
    for (std::int64_t i = 0; i < t.numel(); ++i) {
        out += digits[p[i] >> 4];
        out += digits[p[i] & 15];
    }
    return out;
}

torch::Tensor fromHex(const std::string &hex)
{
    auto t = torch::empty({static_cast<std::int64_t>(hex.size() / 2)}, torch::kUInt8);
    auto *p = t.data_ptr<std::uint8_t>();
    const auto nibble = [](char c) { return c <= '9' ? c - '0' : c - 'a' + 10; };
    for (std::size_t i = 0; i + 1 < hex.size(); i += 2)
        p[i / 2] = static_cast<std::uint8_t>(nibble(hex[i]) << 4 | nibble(hex[i + 1]));
    return t;
}

std::vector<std::int64_t> checkpointSteps(const fs::path &output)
{
    std::vector<std::int64_t> steps;
    if (!fs::is_directory(output))
        return steps;
    for (const auto &e : fs::directory_iterator(output)) {
        const auto name = e.path().filename().string();
        if (e.is_directory() && name.starts_with("checkpoint-") && name.size() > 11 &&
            name.find_first_not_of("0123456789", 11) == std::string::npos)
            if (name.size() <= 11 + 18) // a longer number is no step of ours (and overflows)
                steps.push_back(std::stoll(name.substr(11)));
    }
    std::sort(steps.begin(), steps.end());
    return steps;
}

} // namespace

bool isTrainingStateFile(const fs::path &name)
{
    return name == "optimizer.safetensors" || name == "optimizer.pt" || name == "trainer_state.json";
}

fs::path checkpointDir(const fs::path &output, std::int64_t step) { return output / ("checkpoint-" + std::to_string(step)); }

fs::path latestCheckpoint(const fs::path &output)
{
    const auto steps = checkpointSteps(output);
    for (auto it = steps.rbegin(); it != steps.rend(); ++it)
        if (fs::exists(checkpointDir(output, *it) / "trainer_state.json"))
            return checkpointDir(output, *it);
    return {};
}

void writeCheckpoint(const fs::path &output, std::int64_t step, const std::function<void(const fs::path &)> &writeModelFiles,
                     torch::optim::Optimizer &optimizer, const nlohmann::json &state)
{
    fs::create_directories(output);
    replaceDirectoryAtomically(checkpointDir(output, step), [&](const fs::path &staging) {
        writeModelFiles(staging);
        saveOptimizerState(optimizer, staging / "optimizer.safetensors");
        AtomicFile file(staging / "trainer_state.json");
        file.write(state.dump(2) + "\n");
        file.commit();
    });
}

nlohmann::json readCheckpoint(const fs::path &dir, torch::optim::Optimizer &optimizer)
{
    nlohmann::json state;
    state = readJsonFile(dir / "trainer_state.json");
    loadOptimizerState(optimizer, dir / "optimizer.safetensors");
    return state;
}

void pruneCheckpoints(const fs::path &output, std::size_t keep, std::int64_t protectedStep)
{
    const auto steps = checkpointSteps(output);
    std::size_t kept = 0;
    for (auto it = steps.rbegin(); it != steps.rend(); ++it) {
        if (*it == protectedStep)
            continue;
        if (++kept > keep)
            fs::remove_all(checkpointDir(output, *it));
    }
}

fs::path publishBest(const fs::path &output, const fs::path &checkpoint)
{
    const auto best = output / "best";
    replaceDirectoryAtomically(best, [&](const fs::path &staging) {
        for (const auto &e : fs::directory_iterator(checkpoint))
            if (!isTrainingStateFile(e.path().filename()))
                fs::copy(e.path(), staging / e.path().filename(), fs::copy_options::recursive);
    });
    return best;
}

std::string generatorStateHex(at::Generator &generator)
{
    std::lock_guard<std::mutex> lock(generator.mutex());
    return toHex(generator.get_state());
}

void setGeneratorStateHex(at::Generator &generator, const std::string &hex)
{
    std::lock_guard<std::mutex> lock(generator.mutex());
    generator.set_state(fromHex(hex));
}

std::string cpuRngStateHex()
{
    auto gen = at::detail::getDefaultCPUGenerator();
    return generatorStateHex(gen);
}

void setCpuRngStateHex(const std::string &hex)
{
    auto gen = at::detail::getDefaultCPUGenerator();
    setGeneratorStateHex(gen, hex);
}

} // namespace unirank::training
