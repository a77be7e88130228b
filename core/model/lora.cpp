// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/model/lora.h"

#include "core/model/loader.h"
#include "core/model/torch_io.h"
#include "core/util/atomic_file.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <map>

namespace fs = std::filesystem;

namespace unirank::model {

Result<LoraInfo> mergeLoraAdapter(Qwen2VL &model, const fs::path &folder)
{
    const auto configPath = folder / "adapter_config.json";
    const auto weightsPath = folder / "adapter_model.safetensors";
    const auto bad = [](const std::string &what) { return std::unexpected(Error{ErrorKind::BadInput, what}); };
    LoraInfo info;
    try {
        const auto cfg = nlohmann::json::parse(readWholeFile(configPath));
        const auto where = configPath.string() + ": ";
        if (cfg.value("peft_type", std::string("LORA")) != "LORA")
            return bad(where + "field 'peft_type': only LORA adapters are supported");
        if (cfg.value("use_dora", false))
            return bad(where + "field 'use_dora': DoRA adapters are not supported");
        if (cfg.value("fan_in_fan_out", false))
            return bad(where + "field 'fan_in_fan_out': not supported for Qwen2-VL's Linear layers");
        if (!cfg.contains("r") || !cfg["r"].is_number_integer() || cfg["r"].get<std::int64_t>() <= 0)
            return bad(where + "field 'r': missing or not a positive integer");
        info.rank = cfg["r"].get<std::int64_t>();
        info.alpha = cfg.value("lora_alpha", static_cast<double>(info.rank));
        info.scale = cfg.value("use_rslora", false) ? info.alpha / std::sqrt(static_cast<double>(info.rank))
                                                    : info.alpha / static_cast<double>(info.rank);
    } catch (const nlohmann::json::exception &e) {
        return bad(configPath.string() + ": " + e.what());
    } catch (const InputError &e) {
        return bad(e.what());
    }
    auto tensors = readSafetensors(weightsPath);
    if (!tensors)
        return std::unexpected(tensors.error());
    // module path -> (A, B)
    std::map<std::string, std::pair<torch::Tensor, torch::Tensor>> pairs;
    constexpr std::string_view kPrefix = "base_model.model.";
    for (const auto &[name, value] : *tensors) {
        const auto where = weightsPath.string() + ": tensor '" + name + "': ";
        std::string_view n = name;
        if (!n.starts_with(kPrefix))
            return bad(where + "does not start with base_model.model.");
        n.remove_prefix(kPrefix.size());
        const bool isA = n.ends_with(".lora_A.weight"), isB = n.ends_with(".lora_B.weight");
        if (!isA && !isB)
            return bad(where + "is neither lora_A.weight nor lora_B.weight (only Linear LoRA is supported)");
        n.remove_suffix(std::string_view(".lora_A.weight").size());
        auto &slot = pairs[std::string(n)];
        (isA ? slot.first : slot.second) = value;
    }
    auto params = model->named_parameters();
    torch::NoGradGuard noGrad;
    for (const auto &[module, ab] : pairs) {
        const auto &[a, b] = ab;
        const auto where = weightsPath.string() + ": module '" + module + "': ";
        if (!a.defined() || !b.defined())
            return bad(where + "has only one of lora_A and lora_B");
        auto *param = params.find(canonicalTensorName(module + ".weight"));
        if (!param)
            return bad(where + "is not a weight of this model");
        if (a.dim() != 2 || b.dim() != 2 || a.size(0) != info.rank || b.size(1) != info.rank ||
            b.size(0) != param->size(0) || a.size(1) != param->size(1))
            return bad(where + "lora_A " + c10::str(a.sizes()) + " and lora_B " + c10::str(b.sizes()) +
                       " do not fit the weight " + c10::str(param->sizes()) + " with r = " + std::to_string(info.rank));
        const auto delta = torch::matmul(b.to(torch::kFloat32), a.to(torch::kFloat32)) * info.scale;
        param->copy_((param->to(torch::kCPU, torch::kFloat32) + delta).to(param->device(), param->scalar_type()));
        ++info.mergedModules;
    }
    if (info.mergedModules == 0)
        return bad(weightsPath.string() + ": holds no LoRA weights");
    return info;
}

} // namespace unirank::model
