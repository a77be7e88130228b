// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/model/loader.h"

#include "core/model/torch_io.h"
#include "core/util/atomic_file.h"

#include <nlohmann/json.hpp>

#include <set>

namespace fs = std::filesystem;

namespace unirank::model {

std::string canonicalTensorName(std::string_view stored)
{
    constexpr std::string_view kLanguage = "model.language_model.", kVisual = "model.visual.";
    if (stored.starts_with(kLanguage))
        return "model." + std::string(stored.substr(kLanguage.size()));
    if (stored.starts_with(kVisual))
        return "visual." + std::string(stored.substr(kVisual.size()));
    return std::string(stored);
}

Result<void> loadWeights(Qwen2VL &model, const tensor::Checkpoint &checkpoint, const LoadOptions &options)
{
    std::unordered_map<std::string, const tensor::Checkpoint::Entry *> byName;
    for (const auto &stored : checkpoint.names()) {
        const auto canonical = canonicalTensorName(stored);
        const auto *entry = checkpoint.find(stored);
        if (!byName.emplace(canonical, entry).second)
            return std::unexpected(Error{ErrorKind::BadInput, checkpoint.describe(*entry) + ": tensor '" + stored +
                                                                  "' is stored under both naming schemes"});
    }
    torch::NoGradGuard noGrad;
    std::set<std::string> used;
    try {
        for (auto &item : model->named_parameters()) {
            const auto it = byName.find(item.key());
            if (it == byName.end())
                return std::unexpected(Error{ErrorKind::BadInput, "the checkpoint has no tensor '" + item.key() + "'"});
            const auto &entry = *it->second;
            const auto &info = *entry.info;
            const auto where = checkpoint.describe(entry) + ": tensor '" + info.name + "': ";
            if (info.dtype != tensor::DType::F32 && info.dtype != tensor::DType::F16 &&
                info.dtype != tensor::DType::BF16 && info.dtype != tensor::DType::F64)
                return std::unexpected(Error{ErrorKind::BadInput, where + "dtype " +
                                                                      std::string(tensor::dtypeName(info.dtype)) +
                                                                      " is not a float type"});
            auto &param = item.value();
            if (!std::equal(info.shape.begin(), info.shape.end(), param.sizes().begin(), param.sizes().end()))
                return std::unexpected(Error{ErrorKind::BadInput, where + "shape " + c10::str(c10::IntArrayRef(info.shape)) +
                                                                      " but the config needs " + c10::str(param.sizes())});
            const auto value = readTensor(checkpoint, entry);
            if (!torch::isfinite(value).all().item<bool>())
                return std::unexpected(Error{ErrorKind::BadInput, where + "holds NaN or infinite values"});
            param.copy_(value);
            used.insert(item.key());
        }
    } catch (const InputError &e) {
        return std::unexpected(Error{ErrorKind::BadInput, e.what()});
    }
    if (options.log)
        for (const auto &[name, entry] : byName)
            if (!used.contains(name))
                options.log("unused tensor '" + entry->info->name + "' in " + checkpoint.describe(*entry));
    return {};
}

Result<Qwen2VL> loadQwen2VL(const fs::path &folder, const LoadOptions &options)
{
    auto config = Qwen2VLConfig::load(folder / "config.json");
    if (!config)
        return std::unexpected(config.error());
    auto checkpoint = tensor::Checkpoint::open(folder);
    if (!checkpoint)
        return std::unexpected(checkpoint.error());
    // An untied config without lm_head.weight cannot be scored; say so instead of using random rows.
    if (!config->text.tieWordEmbeddings && !checkpoint->find("lm_head.weight"))
        return std::unexpected(Error{ErrorKind::BadInput, (folder / "config.json").string() +
                                                              ": tie_word_embeddings is false but the checkpoint has "
                                                              "no lm_head.weight"});
    Qwen2VL model(*config);
    model->eval();
    if (auto loaded = loadWeights(model, *checkpoint, options); !loaded)
        return std::unexpected(loaded.error());
    model->to(options.device, options.dtype);
    return model;
}

void saveQwen2VL(Qwen2VL &model, const fs::path &folder)
{
    fs::create_directories(folder);
    std::vector<std::pair<std::string, torch::Tensor>> tensors;
    for (const auto &item : model->named_parameters())
        tensors.emplace_back(item.key(), item.value());
    writeTensors(folder / "model.safetensors", tensors);
    writeFileAtomically(folder / "config.json", model->config().toJson().dump(2) + "\n");
}

torch::Device parseDevice(const std::string &name)
{
    if (name == "cpu")
        return torch::kCPU;
    if (name == "cuda" || name.starts_with("cuda:")) {
        if (!torch::cuda::is_available())
            throw InputError("--device " + name + ": this libtorch has no usable CUDA device");
        return torch::Device(name);
    }
    throw InputError("--device must be cpu or cuda[:N], not '" + name + "'");
}

torch::ScalarType parseDtype(const std::string &name)
{
    if (name == "fp32" || name == "float32")
        return torch::kFloat32;
    if (name == "bf16" || name == "bfloat16")
        return torch::kBFloat16;
    if (name == "fp16" || name == "float16")
        return torch::kHalf;
    throw InputError("--dtype must be fp32, bf16 or fp16, not '" + name + "'");
}

} // namespace unirank::model
