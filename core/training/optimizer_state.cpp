// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/training/optimizer_state.h"

#include "core/model/torch_io.h"
#include "core/util/error.h"

#include <map>
#include <type_traits>

namespace fs = std::filesystem;

namespace unirank::training {
namespace {

// libtorch 1.13 keys the state by the TensorImpl address as text, 2.x by the address itself.
template <typename Map>
typename Map::key_type stateKey(const Map &, const torch::Tensor &param)
{
    using Key = typename Map::key_type;
    if constexpr (std::is_same_v<Key, std::string>)
        return c10::guts::to_string(param.unsafeGetTensorImpl());
    else
        return static_cast<Key>(param.unsafeGetTensorImpl());
}

std::string prefix(std::size_t group, std::size_t index)
{
    return "g" + std::to_string(group) + ".p" + std::to_string(index) + ".";
}

} // namespace

void saveOptimizerState(torch::optim::Optimizer &optimizer, const fs::path &file)
{
    std::vector<std::pair<std::string, torch::Tensor>> tensors;
    auto &state = optimizer.state();
    const auto &groups = optimizer.param_groups();
    for (std::size_t g = 0; g < groups.size(); ++g) {
        const auto &params = groups[g].params();
        for (std::size_t i = 0; i < params.size(); ++i) {
            const auto it = state.find(stateKey(state, params[i]));
            if (it == state.end())
                continue; // no step taken with this parameter yet
            const auto *adam = dynamic_cast<const torch::optim::AdamWParamState *>(it->second.get());
            if (!adam)
                throw std::logic_error("saveOptimizerState: only AdamW state is supported");
            const auto p = prefix(g, i);
            tensors.emplace_back(p + "step", torch::tensor({adam->step()}, torch::kInt64));
            tensors.emplace_back(p + "exp_avg", adam->exp_avg());
            tensors.emplace_back(p + "exp_avg_sq", adam->exp_avg_sq());
            if (adam->max_exp_avg_sq().defined())
                tensors.emplace_back(p + "max_exp_avg_sq", adam->max_exp_avg_sq());
        }
    }
    model::writeTensors(file, tensors, {{"format", "unirank-adamw"}});
}

void loadOptimizerState(torch::optim::Optimizer &optimizer, const fs::path &file)
{
    if (!fs::exists(file)) {
        if (fs::exists(file.parent_path() / "optimizer.pt"))
            throw InputError(file.string() + ": missing; this checkpoint keeps its optimizer in optimizer.pt, which "
                             "is not loaded (a TorchScript archive may run code): start a new run from its adapter");
        throw InputError(file.string() + ": missing (the checkpoint has no optimizer state)");
    }
    auto stored = model::readSafetensors(file);
    if (!stored)
        throw InputError(stored.error().message);
    const auto where = [&](const std::string &name) { return file.string() + ": tensor '" + name + "': "; };

    std::map<std::string, std::unique_ptr<torch::optim::AdamWParamState>> loaded; // by prefix
    const auto &groups = optimizer.param_groups();
    std::size_t used = 0;
    for (std::size_t g = 0; g < groups.size(); ++g) {
        const auto &params = groups[g].params();
        for (std::size_t i = 0; i < params.size(); ++i) {
            const auto p = prefix(g, i);
            const auto step = stored->find(p + "step");
            if (step == stored->end())
                continue;
            auto s = std::make_unique<torch::optim::AdamWParamState>();
            if (step->second.scalar_type() != torch::kInt64 || step->second.numel() != 1 ||
                step->second.item<std::int64_t>() < 0)
                throw InputError(where(p + "step") + "must be one non-negative I64");
            s->step(step->second.item<std::int64_t>());
            ++used;
            for (const char *field : {"exp_avg", "exp_avg_sq", "max_exp_avg_sq"}) {
                const auto it = stored->find(p + field);
                if (it == stored->end()) {
                    if (std::string(field) == "max_exp_avg_sq")
                        continue;
                    throw InputError(where(p + field) + "missing");
                }
                const auto &t = it->second;
                if (t.scalar_type() != params[i].scalar_type() || t.sizes() != params[i].sizes())
                    throw InputError(where(p + field) + "expected the parameter's dtype and shape " +
                                     c10::str(params[i].scalar_type()) + " " + c10::str(params[i].sizes()));
                if (!torch::isfinite(t).all().item<bool>())
                    throw InputError(where(p + field) + "holds NaN or infinite values");
                auto moved = t.to(params[i].device());
                if (std::string(field) == "exp_avg")
                    s->exp_avg(moved);
                else if (std::string(field) == "exp_avg_sq")
                    s->exp_avg_sq(moved);
                else
                    s->max_exp_avg_sq(moved);
                ++used;
            }
            loaded.emplace(p, std::move(s));
        }
    }
    if (used != stored->size())
        throw InputError(file.string() + ": holds " + std::to_string(stored->size() - used) +
                         " tensors that belong to no parameter of this model (a checkpoint of another run?)");
    auto &state = optimizer.state();
    for (std::size_t g = 0; g < groups.size(); ++g) {
        const auto &params = groups[g].params();
        for (std::size_t i = 0; i < params.size(); ++i) {
            const auto it = loaded.find(prefix(g, i));
            if (it != loaded.end())
                state[stateKey(state, params[i])] = std::move(it->second);
        }
    }
}

namespace {

std::unique_ptr<torch::optim::AdamWParamState> deepCopy(const torch::optim::AdamWParamState &from)
{
    auto to = std::make_unique<torch::optim::AdamWParamState>();
    to->step(from.step());
    to->exp_avg(from.exp_avg().clone());
    to->exp_avg_sq(from.exp_avg_sq().clone());
    if (from.max_exp_avg_sq().defined())
        to->max_exp_avg_sq(from.max_exp_avg_sq().clone());
    return to;
}

} // namespace

OptimizerSnapshot snapshotOptimizer(torch::optim::Optimizer &optimizer)
{
    OptimizerSnapshot snapshot;
    auto &state = optimizer.state();
    for (const auto &group : optimizer.param_groups())
        for (const auto &param : group.params()) {
            const auto it = state.find(stateKey(state, param));
            const auto *adam = it == state.end() ? nullptr : dynamic_cast<const torch::optim::AdamWParamState *>(it->second.get());
            if (it != state.end() && !adam)
                throw std::logic_error("snapshotOptimizer: only AdamW state is supported");
            snapshot.push_back(adam ? deepCopy(*adam) : nullptr);
        }
    return snapshot;
}

void restoreOptimizerSnapshot(torch::optim::Optimizer &optimizer, const OptimizerSnapshot &snapshot)
{
    auto &state = optimizer.state();
    std::size_t k = 0;
    for (const auto &group : optimizer.param_groups())
        for (const auto &param : group.params()) {
            if (k >= snapshot.size())
                throw std::logic_error("restoreOptimizerSnapshot: the snapshot is of another optimizer");
            const auto key = stateKey(state, param);
            if (snapshot[k])
                state[key] = deepCopy(*snapshot[k]);
            else
                state.erase(key);
            ++k;
        }
}

} // namespace unirank::training
