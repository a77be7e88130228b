// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/model/config.h"

#include "core/util/atomic_file.h"
#include "core/util/json_text.h"

#include <nlohmann/json.hpp>

namespace unirank::model {
namespace {

using nlohmann::json;

/// Looks a key up in `text_config` first, then at the top level.
class Fields {
public:
    Fields(const json &root, std::string source) : m_root(root), m_source(std::move(source))
    {
        const auto tc = root.find("text_config");
        if (tc != root.end() && tc->is_object())
            m_text = &*tc;
    }

    const json *text(const char *key) const
    {
        if (m_text) {
            const auto it = m_text->find(key);
            if (it != m_text->end() && !it->is_null())
                return &*it;
        }
        const auto it = m_root.find(key);
        return it != m_root.end() && !it->is_null() ? &*it : nullptr;
    }

    template <typename T>
    T required(const char *key) const
    {
        const auto *v = text(key);
        if (!v)
            throw InputError({m_source, 0, key}, "missing");
        return as<T>(*v, key);
    }

    template <typename T>
    T optional(const char *key, T fallback) const
    {
        const auto *v = text(key);
        return v ? as<T>(*v, key) : fallback;
    }

    template <typename T>
    T as(const json &v, const std::string &key) const
    {
        try {
            if constexpr (std::is_same_v<T, std::int64_t>) {
                if (!v.is_number_integer())
                    throw InputError({m_source, 0, key}, "must be an integer");
            } else if constexpr (std::is_same_v<T, double>) {
                if (!v.is_number())
                    throw InputError({m_source, 0, key}, "must be a number");
            }
            return v.get<T>();
        } catch (const json::exception &) {
            throw InputError({m_source, 0, key}, "has the wrong type");
        }
    }

    const std::string &source() const { return m_source; }

private:
    const json &m_root;
    const json *m_text = nullptr;
    std::string m_source;
};

/// mrope_section from rope_parameters or rope_scaling, in text_config or at the top level.
std::array<std::int64_t, 3> mropeSection(const json &root, const Fields &f)
{
    for (const char *key : {"rope_parameters", "rope_scaling"}) {
        const auto *rope = f.text(key);
        if (!rope || !rope->is_object())
            continue;
        const auto it = rope->find("mrope_section");
        if (it == rope->end())
            continue;
        if (!it->is_array() || it->size() != 3)
            throw InputError({f.source(), 0, std::string(key) + ".mrope_section"}, "must be three integers");
        std::array<std::int64_t, 3> out{};
        for (std::size_t i = 0; i < 3; ++i)
            out[i] = f.as<std::int64_t>((*it)[i], std::string(key) + ".mrope_section");
        return out;
    }
    (void)root;
    throw InputError({f.source(), 0, "rope_scaling.mrope_section"}, "missing (Qwen2-VL needs M-RoPE sections)");
}

double ropeTheta(const Fields &f)
{
    const auto *rp = f.text("rope_parameters");
    if (rp && rp->is_object()) {
        const auto it = rp->find("rope_theta");
        if (it != rp->end())
            return f.as<double>(*it, "rope_parameters.rope_theta");
    }
    return f.optional<double>("rope_theta", 1e6);
}

Qwen2VLConfig parse(const json &root, const std::string &source)
{
    if (!root.is_object())
        throw InputError({source, 0, ""}, "not a JSON object");
    const Fields f(root, source);
    const auto modelType = root.value("model_type", std::string());
    if (modelType != "qwen2_vl")
        throw InputError({source, 0, "model_type"},
                         "'" + modelType + "' is not supported (only 'qwen2_vl', Qwen2-VL, is)");
    Qwen2VLConfig c;
    auto &t = c.text;
    t.hiddenSize = f.required<std::int64_t>("hidden_size");
    t.numLayers = f.required<std::int64_t>("num_hidden_layers");
    t.numHeads = f.required<std::int64_t>("num_attention_heads");
    t.numKvHeads = f.optional<std::int64_t>("num_key_value_heads", t.numHeads);
    t.intermediateSize = f.required<std::int64_t>("intermediate_size");
    t.vocabSize = f.required<std::int64_t>("vocab_size");
    t.rmsNormEps = f.optional<double>("rms_norm_eps", 1e-6);
    t.ropeTheta = ropeTheta(f);
    t.mropeSection = mropeSection(root, f);
    t.hiddenAct = f.optional<std::string>("hidden_act", "silu");
    // Top level wins for tying: that is the flag PreTrainedModel.tie_weights reads.
    const auto top = root.find("tie_word_embeddings");
    t.tieWordEmbeddings = top != root.end() && top->is_boolean() ? top->get<bool>()
                                                                   : f.optional<bool>("tie_word_embeddings", false);
    if (t.hiddenSize <= 0 || t.numLayers <= 0 || t.numHeads <= 0 || t.numKvHeads <= 0 || t.vocabSize <= 0 ||
        t.intermediateSize <= 0)
        throw InputError({source, 0, "hidden_size"}, "sizes must be positive");
    if (t.hiddenSize % t.numHeads != 0)
        throw InputError({source, 0, "num_attention_heads"}, "does not divide hidden_size");
    if (t.numHeads % t.numKvHeads != 0)
        throw InputError({source, 0, "num_key_value_heads"}, "does not divide num_attention_heads");
    t.headDim = t.hiddenSize / t.numHeads;
    if (t.mropeSection[0] + t.mropeSection[1] + t.mropeSection[2] != t.headDim / 2)
        throw InputError({source, 0, "mrope_section"},
                         "must sum to head_dim/2 = " + std::to_string(t.headDim / 2));
    if (t.hiddenAct != "silu")
        throw InputError({source, 0, "hidden_act"}, "'" + t.hiddenAct + "' is not supported (only 'silu')");

    const auto vc = root.find("vision_config");
    if (vc == root.end() || !vc->is_object())
        throw InputError({source, 0, "vision_config"}, "missing");
    const Fields vf(*vc, source);
    auto &v = c.vision;
    const auto vInt = [&](const char *key, std::int64_t fallback) {
        const auto it = vc->find(key);
        return it == vc->end() ? fallback : vf.as<std::int64_t>(*it, std::string("vision_config.") + key);
    };
    v.depth = vInt("depth", 32);
    v.embedDim = vInt("embed_dim", 1280);
    v.numHeads = vInt("num_heads", 16);
    v.mlpRatio = vc->contains("mlp_ratio") ? vf.as<double>((*vc)["mlp_ratio"], "vision_config.mlp_ratio") : 4.0;
    v.inChannels = vInt("in_channels", vInt("in_chans", 3));
    v.patchSize = vInt("patch_size", 14);
    v.spatialMergeSize = vInt("spatial_merge_size", 2);
    v.temporalPatchSize = vInt("temporal_patch_size", 2);
    v.hiddenSize = vInt("hidden_size", -1);
    v.hiddenAct = vc->value("hidden_act", std::string("quick_gelu"));
    if (v.hiddenSize < 0)
        throw InputError({source, 0, "vision_config.hidden_size"}, "missing");
    if (v.hiddenSize != t.hiddenSize)
        throw InputError({source, 0, "vision_config.hidden_size"},
                         "must equal the text hidden_size " + std::to_string(t.hiddenSize));
    if (v.numHeads <= 0 || v.embedDim % v.numHeads != 0 || v.headDim() % 4 != 0)
        throw InputError({source, 0, "vision_config.num_heads"}, "the vision head size must be a multiple of 4");
    if (v.depth < 0 || v.patchSize <= 0 || v.spatialMergeSize <= 0 || v.temporalPatchSize <= 0)
        throw InputError({source, 0, "vision_config"}, "sizes must be positive");
    if (v.hiddenAct != "quick_gelu")
        throw InputError({source, 0, "vision_config.hidden_act"}, "'" + v.hiddenAct + "' is not supported");

    auto &k = c.tokens;
    k.imageToken = f.optional<std::int64_t>("image_token_id", k.imageToken);
    k.videoToken = f.optional<std::int64_t>("video_token_id", k.videoToken);
    k.visionStart = f.optional<std::int64_t>("vision_start_token_id", k.visionStart);
    k.visionEnd = f.optional<std::int64_t>("vision_end_token_id", k.visionEnd);
    k.bos = f.optional<std::int64_t>("bos_token_id", -1);
    const auto *eos = f.text("eos_token_id");
    if (eos && eos->is_number_integer())
        k.eos = eos->get<std::int64_t>();
    for (const auto id : {k.imageToken, k.visionStart, k.visionEnd})
        if (id < 0 || id >= t.vocabSize)
            throw InputError({source, 0, "image_token_id"}, "special token ids must be below vocab_size");
    c.torchDtype = root.value("torch_dtype", root.value("dtype", std::string()));
    return c;
}

} // namespace

Result<Qwen2VLConfig> Qwen2VLConfig::fromJson(const nlohmann::json &json, const std::string &source)
{
    try {
        return parse(json, source);
    } catch (const InputError &e) {
        return std::unexpected(Error{ErrorKind::BadInput, e.what()});
    } catch (const json::exception &e) { // a field of the wrong type read with value()
        return std::unexpected(Error{ErrorKind::BadInput, source + ": a field has the wrong type: " + e.what()});
    }
}

Result<Qwen2VLConfig> Qwen2VLConfig::load(const std::filesystem::path &configJson)
{
    try {
        return fromJson(readJsonFile(configJson), configJson.string());
    } catch (const InputError &e) {
        return std::unexpected(Error{ErrorKind::BadInput, e.what()});
    }
}

nlohmann::json Qwen2VLConfig::toJson() const
{
    return json{
        {"architectures", {"Qwen2VLForConditionalGeneration"}},
        {"model_type", "qwen2_vl"},
        {"hidden_size", text.hiddenSize},
        {"num_hidden_layers", text.numLayers},
        {"num_attention_heads", text.numHeads},
        {"num_key_value_heads", text.numKvHeads},
        {"intermediate_size", text.intermediateSize},
        {"vocab_size", text.vocabSize},
        {"rms_norm_eps", text.rmsNormEps},
        {"rope_theta", text.ropeTheta},
        {"rope_scaling", {{"type", "mrope"}, {"mrope_section", text.mropeSection}}},
        {"hidden_act", text.hiddenAct},
        {"tie_word_embeddings", text.tieWordEmbeddings},
        {"image_token_id", tokens.imageToken},
        {"video_token_id", tokens.videoToken},
        {"vision_start_token_id", tokens.visionStart},
        {"vision_end_token_id", tokens.visionEnd},
        {"bos_token_id", tokens.bos},
        {"eos_token_id", tokens.eos},
        {"torch_dtype", torchDtype.empty() ? "float32" : torchDtype},
        {"vision_config",
         {{"depth", vision.depth},
          {"embed_dim", vision.embedDim},
          {"num_heads", vision.numHeads},
          {"mlp_ratio", vision.mlpRatio},
          {"hidden_size", vision.hiddenSize},
          {"in_chans", vision.inChannels},
          {"patch_size", vision.patchSize},
          {"spatial_merge_size", vision.spatialMergeSize},
          {"temporal_patch_size", vision.temporalPatchSize}}},
    };
}

} // namespace unirank::model
