// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/model/lora.h"

#include "core/model/loader.h"
#include "core/model/torch_io.h"
#include "core/util/atomic_file.h"
#include "core/util/json_text.h"

#include <nlohmann/json.hpp>

#include <cmath>
#include <map>

namespace fs = std::filesystem;

namespace unirank::model {

namespace {

bool matches(const std::string &name, const std::vector<std::string> &targets)
{
    for (const auto &t : targets)
        if (name == t || (name.size() > t.size() && name.ends_with(t) && name[name.size() - t.size() - 1] == '.'))
            return true;
    return false;
}

/// Every LoraLinear of the model with its name, in registration order.
std::vector<std::pair<std::string, LoraLinearImpl *>> loraLayers(Qwen2VL &model)
{
    std::vector<std::pair<std::string, LoraLinearImpl *>> out;
    for (const auto &item : model->named_modules("", false))
        if (auto *layer = dynamic_cast<LoraLinearImpl *>(item.value().get()))
            out.emplace_back(item.key(), layer);
    return out;
}

constexpr std::string_view kPrefix = "base_model.model.";

/// adapter_config.json of a plain LoRA adapter (no DoRA, no fan_in_fan_out, a positive r).
Result<LoraConfig> readLoraConfig(const fs::path &configPath)
{
    const auto bad = [](const std::string &what) { return std::unexpected(Error{ErrorKind::BadInput, what}); };
    LoraConfig config;
    try {
        const auto cfg = readJsonFile(configPath);
        const auto where = configPath.string() + ": ";
        if (cfg.value("peft_type", std::string("LORA")) != "LORA")
            return bad(where + "field 'peft_type': only LORA adapters are supported");
        if (cfg.value("use_dora", false))
            return bad(where + "field 'use_dora': DoRA adapters are not supported");
        if (cfg.value("fan_in_fan_out", false))
            return bad(where + "field 'fan_in_fan_out': not supported for Qwen2-VL's Linear layers");
        if (!cfg.contains("r") || !cfg["r"].is_number_integer() || cfg["r"].get<std::int64_t>() <= 0)
            return bad(where + "field 'r': missing or not a positive integer");
        config.settings.rank = cfg["r"].get<std::int64_t>();
        config.settings.alpha = cfg.value("lora_alpha", static_cast<double>(config.settings.rank));
        config.settings.dropout = cfg.value("lora_dropout", 0.0);
        config.settings.rslora = cfg.value("use_rslora", false);
        if (cfg.contains("target_modules") && cfg["target_modules"].is_array())
            config.targetModules = cfg["target_modules"].get<std::vector<std::string>>();
        config.vision = cfg.value("unirank_vision", false);
    } catch (const nlohmann::json::exception &e) {
        return bad(configPath.string() + ": " + e.what());
    } catch (const InputError &e) {
        return bad(e.what());
    }
    return config;
}

} // namespace

std::size_t addLoraAdapters(Qwen2VL &model, const LoraConfig &config)
{
    if (config.settings.rank <= 0)
        throw InputError("field 'r': the LoRA rank must be positive");
    std::size_t added = 0;
    for (auto &[name, layer] : loraLayers(model)) {
        if (!config.vision && name.starts_with("visual."))
            continue;
        if (!matches(name, config.targetModules))
            continue;
        layer->addAdapter(config.settings);
        ++added;
    }
    if (added == 0)
        throw InputError("field 'target_modules': no layer of the model matches");
    return added;
}

void removeLoraAdapters(Qwen2VL &model)
{
    for (auto &[name, layer] : loraLayers(model))
        layer->removeAdapter();
}

void mergeLoraAdapters(Qwen2VL &model)
{
    for (auto &[name, layer] : loraLayers(model))
        layer->mergeAdapter();
}

std::vector<std::pair<std::string, torch::Tensor>> loraParameters(Qwen2VL &model)
{
    std::vector<std::pair<std::string, torch::Tensor>> out;
    const auto family = model->config().family();
    for (auto &[layerName, layer] : loraLayers(model))
        if (layer->hasAdapter()) {
            // PEFT names follow the module paths of the family's transformers class (Qwen3-VL:
            // model.language_model.*, model.visual.*).
            const auto name = hubTensorName(layerName, family);
            out.emplace_back(std::string(kPrefix) + name + ".lora_A.weight", layer->loraA()->weight);
            out.emplace_back(std::string(kPrefix) + name + ".lora_B.weight", layer->loraB()->weight);
        }
    return out;
}

void saveLoraAdapter(Qwen2VL &model, const LoraConfig &config, const fs::path &folder, const std::string &baseModel)
{
    replaceDirectoryAtomically(folder, [&](const fs::path &staging) { writeLoraAdapterFiles(model, config, staging, baseModel); });
}

void writeLoraAdapterFiles(Qwen2VL &model, const LoraConfig &config, const fs::path &folder, const std::string &baseModel)
{
    const auto tensors = loraParameters(model);
    if (tensors.empty())
        throw InputError("the model carries no LoRA adapter to save");
    nlohmann::json cfg{{"peft_type", "LORA"},
                       {"task_type", "CAUSAL_LM"},
                       {"base_model_name_or_path", baseModel},
                       {"r", config.settings.rank},
                       {"lora_alpha", config.settings.alpha},
                       {"lora_dropout", config.settings.dropout},
                       {"use_rslora", config.settings.rslora},
                       {"target_modules", config.targetModules},
                       {"bias", "none"},
                       {"fan_in_fan_out", false},
                       {"use_dora", false},
                       {"inference_mode", true},
                       {"modules_to_save", nullptr},
                       {"unirank_vision", config.vision}};
    AtomicFile out(folder / "adapter_config.json");
    out.write(cfg.dump(2) + "\n");
    out.commit();
    writeTensors(folder / "adapter_model.safetensors", tensors);
}

Result<LoraConfig> loadLoraAdapter(Qwen2VL &model, const fs::path &folder)
{
    const auto weightsPath = folder / "adapter_model.safetensors";
    const auto bad = [](const std::string &what) { return std::unexpected(Error{ErrorKind::BadInput, what}); };
    if (const auto pickled = folder / "adapter_model.bin"; !fs::exists(weightsPath) && fs::exists(pickled))
        return bad(pickled.string() + ": a pickle, which can run code when loaded: only safetensors is loaded "
                                      "(save the adapter with safe_serialization=True)");
    auto read = readLoraConfig(folder / "adapter_config.json");
    if (!read)
        return std::unexpected(read.error());
    const auto config = *read;
    auto stored = readSafetensors(weightsPath);
    if (!stored)
        return std::unexpected(stored.error());
    // Canonical layer names (either naming scheme of the base checkpoint may have been used).
    auto tensors = std::make_optional<std::map<std::string, torch::Tensor>>();
    for (auto &[name, value] : *stored) {
        std::string_view n = name;
        const bool isA = n.ends_with(".lora_A.weight"), isB = n.ends_with(".lora_B.weight");
        if (!n.starts_with(kPrefix) || (!isA && !isB))
            return bad(weightsPath.string() + ": tensor '" + name + "' is not a PEFT LoRA weight (base_model.model.*.lora_A/B.weight)");
        n.remove_prefix(kPrefix.size());
        n.remove_suffix(std::string_view(".lora_A.weight").size());
        auto layer = canonicalTensorName(std::string(n) + ".weight");
        layer.resize(layer.size() - std::string_view(".weight").size());
        (*tensors)[std::string(kPrefix) + layer + (isA ? ".lora_A.weight" : ".lora_B.weight")] = value;
    }
    removeLoraAdapters(model);
    std::size_t loaded = 0;
    for (auto &[name, layer] : loraLayers(model)) {
        const auto a = tensors->find(std::string(kPrefix) + name + ".lora_A.weight");
        const auto b = tensors->find(std::string(kPrefix) + name + ".lora_B.weight");
        if (a == tensors->end() && b == tensors->end())
            continue;
        const auto where = weightsPath.string() + ": module '" + name + "': ";
        if (a == tensors->end() || b == tensors->end())
            return bad(where + "has only one of lora_A and lora_B");
        layer->addAdapter(config.settings);
        if (a->second.sizes() != layer->loraA()->weight.sizes() || b->second.sizes() != layer->loraB()->weight.sizes())
            return bad(where + "lora_A " + c10::str(a->second.sizes()) + " / lora_B " + c10::str(b->second.sizes()) +
                       " do not fit the layer with r = " + std::to_string(config.settings.rank));
        if (!torch::isfinite(a->second).all().item<bool>() || !torch::isfinite(b->second).all().item<bool>())
            return bad(where + "lora_A or lora_B holds NaN or infinite values");
        torch::NoGradGuard noGrad;
        layer->loraA()->weight.copy_(a->second);
        layer->loraB()->weight.copy_(b->second);
        tensors->erase(a);
        tensors->erase(tensors->find(std::string(kPrefix) + name + ".lora_B.weight"));
        ++loaded;
    }
    if (!tensors->empty())
        return bad(weightsPath.string() + ": tensor '" + tensors->begin()->first + "' matches no layer of the model");
    if (loaded == 0)
        return bad(weightsPath.string() + ": holds no LoRA weights");
    return config;
}

Result<LoraInfo> mergeLoraAdapter(Qwen2VL &model, const fs::path &folder)
{
    const auto weightsPath = folder / "adapter_model.safetensors";
    const auto bad = [](const std::string &what) { return std::unexpected(Error{ErrorKind::BadInput, what}); };
    if (const auto pickled = folder / "adapter_model.bin"; !fs::exists(weightsPath) && fs::exists(pickled))
        return bad(pickled.string() + ": a pickle, which can run code when loaded: only safetensors is loaded "
                                      "(save the adapter with safe_serialization=True)");
    const auto config = readLoraConfig(folder / "adapter_config.json");
    if (!config)
        return std::unexpected(config.error());
    LoraInfo info;
    info.rank = config->settings.rank;
    info.alpha = config->settings.alpha;
    info.scale = config->settings.scale();
    auto tensors = readSafetensors(weightsPath);
    if (!tensors)
        return std::unexpected(tensors.error());
    // module path -> (A, B)
    std::map<std::string, std::pair<torch::Tensor, torch::Tensor>> pairs;
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
    // Everything is checked before the first weight changes: a bad adapter leaves the model as it was.
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
        if (!torch::isfinite(a).all().item<bool>() || !torch::isfinite(b).all().item<bool>())
            return bad(where + "lora_A or lora_B holds NaN or infinite values");
    }
    torch::NoGradGuard noGrad;
    for (const auto &[module, ab] : pairs) {
        const auto &[a, b] = ab;
        auto *param = params.find(canonicalTensorName(module + ".weight"));
        const auto delta = torch::matmul(b.to(torch::kFloat32), a.to(torch::kFloat32)) * info.scale;
        param->copy_((param->to(torch::kCPU, torch::kFloat32) + delta).to(param->device(), param->scalar_type()));
        ++info.mergedModules;
    }
    if (info.mergedModules == 0)
        return bad(weightsPath.string() + ": holds no LoRA weights");
    return info;
}

} // namespace unirank::model
