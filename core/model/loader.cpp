// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/model/loader.h"

#include "core/model/param_init.h"
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

std::string hubTensorName(const std::string &canonical, Family family)
{
    if (family != Family::Qwen3VL)
        return canonical;
    if (canonical.starts_with("visual."))
        return "model." + canonical;
    if (canonical.starts_with("model."))
        return "model.language_model." + canonical.substr(6);
    return canonical;
}

namespace {

/// Name -> entry under canonical names; BadInput when a tensor is stored under both schemes.
Result<std::unordered_map<std::string, const tensor::Checkpoint::Entry *>> canonicalEntries(const tensor::Checkpoint &checkpoint)
{
    std::unordered_map<std::string, const tensor::Checkpoint::Entry *> byName;
    for (const auto &stored : checkpoint.names()) {
        const auto *entry = checkpoint.find(stored);
        if (!byName.emplace(canonicalTensorName(stored), entry).second)
            return std::unexpected(Error{ErrorKind::BadInput, checkpoint.describe(*entry) + ": tensor '" + stored +
                                                                  "' is stored under both naming schemes"});
    }
    return byName;
}

/// True when no element is NaN or infinite; checked in slices, so the temporaries stay small (one
/// isfinite over a 7B model's embedding would allocate 2.7 GB).
bool allFinite(const torch::Tensor &t)
{
    if (!t.is_floating_point())
        return true;
    const auto flat = t.reshape({-1});
    constexpr std::int64_t kSlice = std::int64_t(1) << 22;
    for (std::int64_t i = 0; i < flat.numel(); i += kSlice)
        if (!torch::isfinite(flat.narrow(0, i, std::min(kSlice, flat.numel() - i))).all().item<bool>())
            return false;
    return true;
}

/// Gives every parameter its checkpoint tensor: `adopt` replaces the parameter's storage with the
/// tensor read in `dtype` on `device` (readTensorAs: in place or one conversion); otherwise the
/// tensor is copied into the existing parameter.
Result<void> assignWeights(Qwen2VL &model, const tensor::Checkpoint &checkpoint, const LoadOptions &options, bool adopt)
{
    auto byName = canonicalEntries(checkpoint);
    if (!byName)
        return std::unexpected(byName.error());
    torch::NoGradGuard noGrad;
    std::set<std::string> used;
    try {
        for (auto &item : model->named_parameters()) {
            const auto it = byName->find(item.key());
            if (it == byName->end())
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
            const auto value = adopt ? readTensorAs(entry, options.dtype, options.device)
                                     : readTensorAs(entry, param.scalar_type(), param.device());
            if (!allFinite(value))
                return std::unexpected(Error{ErrorKind::BadInput, where + "holds NaN or infinite values"});
            // The check read every page; a tensor used in place (still unwritten) gives them back,
            // and they return from the file on use: a 7B model's 2 GiB of embedding and head rows
            // are then resident only where prompts and labels touch them.
            if (adopt && value.device().is_cpu() && value.data_ptr() == entry.file->bytes(info).data())
                entry.file->release(info);
            if (adopt)
                param.set_data(value);
            else
                param.copy_(value);
            used.insert(item.key());
        }
    } catch (const InputError &e) {
        return std::unexpected(Error{ErrorKind::BadInput, e.what()});
    }
    if (options.log)
        for (const auto &[name, entry] : *byName)
            if (!used.contains(name))
                options.log("unused tensor '" + entry->info->name + "' in " + checkpoint.describe(*entry));
    return {};
}

} // namespace

Result<void> loadWeights(Qwen2VL &model, const tensor::Checkpoint &checkpoint, const LoadOptions &options)
{
    return assignWeights(model, checkpoint, options, false);
}

Result<Qwen2VL> loadQwen2VL(const fs::path &folder, const LoadOptions &options)
{
    if (options.device.is_cpu() && options.dtype == torch::kHalf)
        return std::unexpected(Error{ErrorKind::BadInput, "fp16 needs a CUDA device (libtorch's CPU kernels lack half "
                                                          "precision); on a CPU use bf16 or fp32"});
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
    // A checkpoint with its own scoring head (jina-reranker-m0's JinaVLForRanking: `score.*` on the
    // last hidden state) ranks with that head; its label-token logits would mean nothing.
    for (const auto &name : checkpoint->names())
        if (canonicalTensorName(name).starts_with("score.") || canonicalTensorName(name).starts_with("model.score."))
            return std::unexpected(Error{ErrorKind::BadInput,
                                         checkpoint->describe(*checkpoint->find(name)) + ": tensor '" + name +
                                             "' is a ranking head (as jina-reranker-m0's JinaVLForRanking has); UniRank "
                                             "scores from the label-token logits and does not support such a head"});
    // Built without initialising its large weights, then each parameter takes the file's tensor in the
    // target dtype and device: no float32 or random copy of the model is ever made.
    Qwen2VL model{nullptr};
    {
        SkipParameterInit skip;
        model = Qwen2VL(*config);
    }
    model->eval();
    if (auto loaded = assignWeights(model, *checkpoint, options, true); !loaded)
        return std::unexpected(loaded.error());
    model->to(options.device, options.dtype); // no-op for the adopted parameters
    return model;
}

void saveQwen2VL(Qwen2VL &model, const fs::path &folder)
{
    fs::create_directories(folder);
    std::vector<std::pair<std::string, torch::Tensor>> tensors;
    for (const auto &item : model->named_parameters())
        tensors.emplace_back(hubTensorName(item.key(), model->config().family()), item.value());
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
