// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/model/config.h"

#include "core/util/atomic_file.h"
#include "core/util/json_text.h"

#include <nlohmann/json.hpp>

#include <cmath>

namespace unirank::model {

std::string_view familyModelType(Family family)
{
    switch (family) {
    case Family::Qwen2_5VL:
        return "qwen2_5_vl";
    case Family::Qwen3VL:
        return "qwen3_vl";
    default:
        return "qwen2_vl";
    }
}

std::string_view familyDisplayName(Family family)
{
    switch (family) {
    case Family::Qwen2_5VL:
        return "Qwen2.5-VL";
    case Family::Qwen3VL:
        return "Qwen3-VL";
    default:
        return "Qwen2-VL";
    }
}

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
std::array<std::int64_t, 3> mropeSection(const Fields &f, Family family)
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
    if (family == Family::Qwen3VL)
        return {24, 20, 20}; // Qwen3VLTextRotaryEmbedding's default
    throw InputError({f.source(), 0, "rope_scaling.mrope_section"}, "missing (the model needs M-RoPE sections)");
}

double ropeTheta(const Fields &f, double fallback)
{
    const auto *rp = f.text("rope_parameters");
    if (rp && rp->is_object()) {
        const auto it = rp->find("rope_theta");
        if (it != rp->end())
            return f.as<double>(*it, "rope_parameters.rope_theta");
    }
    return f.optional<double>("rope_theta", fallback);
}

Family parseFamily(const json &root, const std::string &source)
{
    const auto modelType = root.value("model_type", std::string());
    for (const auto family : {Family::Qwen2VL, Family::Qwen2_5VL, Family::Qwen3VL})
        if (modelType == familyModelType(family))
            return family;
    throw InputError({source, 0, "model_type"}, "'" + modelType +
                                                    "' is not supported (supported: 'qwen2_vl' Qwen2-VL, 'qwen2_5_vl' "
                                                    "Qwen2.5-VL, 'qwen3_vl' Qwen3-VL)");
}

void parseText(Qwen2VLConfig &c, const json &root, const Fields &f, Family family)
{
    const auto &source = f.source();
    auto &t = c.text;
    t.hiddenSize = f.required<std::int64_t>("hidden_size");
    t.numLayers = f.required<std::int64_t>("num_hidden_layers");
    t.numHeads = f.required<std::int64_t>("num_attention_heads");
    t.numKvHeads = f.optional<std::int64_t>("num_key_value_heads", t.numHeads);
    t.intermediateSize = f.required<std::int64_t>("intermediate_size");
    t.vocabSize = f.required<std::int64_t>("vocab_size");
    t.rmsNormEps = f.optional<double>("rms_norm_eps", 1e-6);
    t.ropeTheta = ropeTheta(f, family == Family::Qwen3VL ? 5e5 : 1e6);
    t.mropeSection = mropeSection(f, family);
    t.hiddenAct = f.optional<std::string>("hidden_act", "silu");
    // Top level wins for tying: that is the flag PreTrainedModel.tie_weights reads.
    const auto top = root.find("tie_word_embeddings");
    t.tieWordEmbeddings = top != root.end() && top->is_boolean() ? top->get<bool>()
                                                                   : f.optional<bool>("tie_word_embeddings", false);
    if (f.optional<bool>("use_sliding_window", false))
        throw InputError({source, 0, "use_sliding_window"}, "sliding-window attention is not supported");
    if (t.hiddenSize <= 0 || t.numLayers <= 0 || t.numHeads <= 0 || t.numKvHeads <= 0 || t.vocabSize <= 0 ||
        t.intermediateSize <= 0)
        throw InputError({source, 0, "hidden_size"}, "sizes must be positive");
    if (t.numHeads % t.numKvHeads != 0)
        throw InputError({source, 0, "num_key_value_heads"}, "does not divide num_attention_heads");
    if (family == Family::Qwen3VL) {
        // Qwen3's head size is its own field (128 at every size), not hidden_size / heads.
        t.headDim = f.optional<std::int64_t>("head_dim", 128);
        const bool bias = f.optional<bool>("attention_bias", false);
        t.qkvBias = t.outputBias = bias;
        t.qkNorm = true;
        t.mropeInterleaved = true; // transformers interleaves for every Qwen3-VL checkpoint
        if (t.headDim <= 0 || t.headDim % 2 != 0)
            throw InputError({source, 0, "head_dim"}, "must be a positive even number");
    } else {
        if (t.hiddenSize % t.numHeads != 0)
            throw InputError({source, 0, "num_attention_heads"}, "does not divide hidden_size");
        t.headDim = t.hiddenSize / t.numHeads;
    }
    if (t.mropeSection[0] + t.mropeSection[1] + t.mropeSection[2] != t.headDim / 2)
        throw InputError({source, 0, "mrope_section"},
                         "must sum to head_dim/2 = " + std::to_string(t.headDim / 2));
    if (t.hiddenAct != "silu")
        throw InputError({source, 0, "hidden_act"}, "'" + t.hiddenAct + "' is not supported (only 'silu')");
}

/// Reads `vision_config` keys with the family's class defaults.
class VisionFields {
public:
    VisionFields(const json &vc, const std::string &source) : m_vc(vc), m_fields(vc, source) {}

    std::int64_t integer(const char *key, std::int64_t fallback) const
    {
        const auto it = m_vc.find(key);
        return it == m_vc.end() || it->is_null() ? fallback : m_fields.as<std::int64_t>(*it, std::string("vision_config.") + key);
    }
    std::int64_t required(const char *key) const
    {
        const auto v = integer(key, -1);
        if (v < 0)
            throw InputError({m_fields.source(), 0, std::string("vision_config.") + key},
                             "missing (the class default is another model size's)");
        return v;
    }
    std::vector<std::int64_t> list(const char *key, std::vector<std::int64_t> fallback) const
    {
        const auto it = m_vc.find(key);
        if (it == m_vc.end() || it->is_null())
            return fallback;
        if (!it->is_array())
            throw InputError({m_fields.source(), 0, std::string("vision_config.") + key}, "must be a list of integers");
        std::vector<std::int64_t> out;
        for (const auto &x : *it)
            out.push_back(m_fields.as<std::int64_t>(x, std::string("vision_config.") + key));
        return out;
    }
    std::string text(const char *key, const std::string &fallback) const
    {
        const auto it = m_vc.find(key);
        return it == m_vc.end() || !it->is_string() ? fallback : it->get<std::string>();
    }
    double number(const char *key, double fallback) const
    {
        const auto it = m_vc.find(key);
        return it == m_vc.end() || it->is_null() ? fallback : m_fields.as<double>(*it, std::string("vision_config.") + key);
    }

private:
    const json &m_vc;
    Fields m_fields;
};

void parseVision(Qwen2VLConfig &c, const json &root, const std::string &source, Family family)
{
    const auto vc = root.find("vision_config");
    if (vc == root.end() || !vc->is_object())
        throw InputError({source, 0, "vision_config"}, "missing");
    const VisionFields vf(*vc, source);
    auto &v = c.vision;
    v.family = family;
    v.inChannels = vf.integer("in_channels", vf.integer("in_chans", 3));
    v.spatialMergeSize = vf.integer("spatial_merge_size", 2);
    v.temporalPatchSize = vf.integer("temporal_patch_size", 2);
    std::string expectedAct;
    switch (family) {
    case Family::Qwen2VL: // hidden_size is the merger's output, embed_dim the tower's width
        v.depth = vf.integer("depth", 32);
        v.embedDim = vf.integer("embed_dim", 1280);
        v.numHeads = vf.integer("num_heads", 16);
        v.mlpRatio = vf.number("mlp_ratio", 4.0);
        v.patchSize = vf.integer("patch_size", 14);
        v.hiddenSize = vf.required("hidden_size");
        v.hiddenAct = vf.text("hidden_act", "quick_gelu");
        expectedAct = "quick_gelu";
        break;
    case Family::Qwen2_5VL: // hidden_size is the tower's width, out_hidden_size the merger's output
        v.depth = vf.integer("depth", 32);
        v.embedDim = vf.required("hidden_size");
        v.hiddenSize = vf.required("out_hidden_size");
        v.intermediateSize = vf.integer("intermediate_size", 3420);
        v.numHeads = vf.integer("num_heads", 16);
        v.patchSize = vf.integer("patch_size", 14);
        v.windowSize = vf.integer("window_size", 112);
        v.fullAttentionBlocks = vf.list("fullatt_block_indexes", {7, 15, 23, 31});
        v.hiddenAct = vf.text("hidden_act", "silu");
        expectedAct = "silu";
        if (v.windowSize / v.spatialMergeSize / std::max<std::int64_t>(v.patchSize, 1) <= 0)
            throw InputError({source, 0, "vision_config.window_size"}, "must cover at least one merged patch");
        break;
    case Family::Qwen3VL:
        v.depth = vf.integer("depth", 27);
        v.embedDim = vf.required("hidden_size");
        v.hiddenSize = vf.required("out_hidden_size");
        v.intermediateSize = vf.integer("intermediate_size", 4304);
        v.numHeads = vf.integer("num_heads", 16);
        v.patchSize = vf.integer("patch_size", 16);
        v.numPositionEmbeddings = vf.integer("num_position_embeddings", 2304);
        v.deepstackIndexes = vf.list("deepstack_visual_indexes", {8, 16, 24});
        v.hiddenAct = vf.text("hidden_act", "gelu_pytorch_tanh");
        expectedAct = "gelu_pytorch_tanh";
        {
            const auto side = static_cast<std::int64_t>(std::llround(std::sqrt(static_cast<double>(v.numPositionEmbeddings))));
            if (v.numPositionEmbeddings <= 0 || side * side != v.numPositionEmbeddings)
                throw InputError({source, 0, "vision_config.num_position_embeddings"}, "must be a square number");
        }
        break;
    }
    for (const auto *list : {&v.fullAttentionBlocks, &v.deepstackIndexes})
        for (const auto i : *list)
            if (i < 0 || i >= v.depth)
                throw InputError({source, 0, list == &v.deepstackIndexes ? "vision_config.deepstack_visual_indexes"
                                                                         : "vision_config.fullatt_block_indexes"},
                                 "block " + std::to_string(i) + " is outside the " + std::to_string(v.depth) + " blocks");
    if (v.hiddenSize != c.text.hiddenSize)
        throw InputError({source, 0, family == Family::Qwen2VL ? "vision_config.hidden_size" : "vision_config.out_hidden_size"},
                         "must equal the text hidden_size " + std::to_string(c.text.hiddenSize));
    if (v.numHeads <= 0 || v.embedDim % v.numHeads != 0 || v.headDim() % 4 != 0)
        throw InputError({source, 0, "vision_config.num_heads"}, "the vision head size must be a multiple of 4");
    if (v.depth < 0 || v.patchSize <= 0 || v.spatialMergeSize <= 0 || v.temporalPatchSize <= 0 || v.mlpHidden() <= 0)
        throw InputError({source, 0, "vision_config"}, "sizes must be positive");
    if (v.hiddenAct != expectedAct)
        throw InputError({source, 0, "vision_config.hidden_act"},
                         "'" + v.hiddenAct + "' is not supported for " + std::string(familyDisplayName(family)) +
                             " (only '" + expectedAct + "')");
}

Qwen2VLConfig parse(const json &root, const std::string &source)
{
    if (!root.is_object())
        throw InputError({source, 0, ""}, "not a JSON object");
    const Fields f(root, source);
    const auto family = parseFamily(root, source);
    Qwen2VLConfig c;
    parseText(c, root, f, family);
    parseVision(c, root, source, family);

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
        if (id < 0 || id >= c.text.vocabSize)
            throw InputError({source, 0, "image_token_id"}, "special token ids must be below vocab_size");
    const auto *dtype = f.text("torch_dtype");
    if (!dtype)
        dtype = f.text("dtype");
    c.torchDtype = dtype && dtype->is_string() ? dtype->get<std::string>() : std::string();
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
    const auto dtype = torchDtype.empty() ? std::string("float32") : torchDtype;
    const auto family = vision.family;
    json rope{{"type", "mrope"}, {"mrope_section", text.mropeSection}};
    json textPart{
        {"hidden_size", text.hiddenSize},
        {"num_hidden_layers", text.numLayers},
        {"num_attention_heads", text.numHeads},
        {"num_key_value_heads", text.numKvHeads},
        {"intermediate_size", text.intermediateSize},
        {"vocab_size", text.vocabSize},
        {"rms_norm_eps", text.rmsNormEps},
        {"rope_theta", text.ropeTheta},
        {"hidden_act", text.hiddenAct},
        {"tie_word_embeddings", text.tieWordEmbeddings},
        {"bos_token_id", tokens.bos},
        {"eos_token_id", tokens.eos},
    };
    json tokenPart{
        {"image_token_id", tokens.imageToken},
        {"video_token_id", tokens.videoToken},
        {"vision_start_token_id", tokens.visionStart},
        {"vision_end_token_id", tokens.visionEnd},
    };
    json visionPart{
        {"depth", vision.depth},
        {"num_heads", vision.numHeads},
        {"patch_size", vision.patchSize},
        {"spatial_merge_size", vision.spatialMergeSize},
        {"temporal_patch_size", vision.temporalPatchSize},
        {"hidden_act", vision.hiddenAct},
    };
    if (family == Family::Qwen2VL) {
        visionPart.update({{"embed_dim", vision.embedDim},
                           {"mlp_ratio", vision.mlpRatio},
                           {"hidden_size", vision.hiddenSize},
                           {"in_chans", vision.inChannels}});
    } else {
        visionPart.update({{"hidden_size", vision.embedDim},
                           {"out_hidden_size", vision.hiddenSize},
                           {"intermediate_size", vision.mlpHidden()},
                           {"in_channels", vision.inChannels}});
    }
    if (family == Family::Qwen2_5VL)
        visionPart.update({{"window_size", vision.windowSize}, {"fullatt_block_indexes", vision.fullAttentionBlocks}});
    if (family == Family::Qwen3VL) {
        visionPart.update({{"num_position_embeddings", vision.numPositionEmbeddings},
                           {"deepstack_visual_indexes", vision.deepstackIndexes}});
        // Qwen3-VL's own layout: everything about the decoder inside text_config.
        textPart.update({{"model_type", "qwen3_vl_text"},
                         {"head_dim", text.headDim},
                         {"attention_bias", text.qkvBias},
                         {"dtype", dtype},
                         {"rope_scaling", {{"rope_type", "default"}, {"mrope_interleaved", true}, {"mrope_section", text.mropeSection}}}});
        visionPart["model_type"] = "qwen3_vl";
        json out{{"architectures", {"Qwen3VLForConditionalGeneration"}},
                 {"model_type", "qwen3_vl"},
                 {"tie_word_embeddings", text.tieWordEmbeddings},
                 {"text_config", textPart},
                 {"vision_config", visionPart}};
        out.update(tokenPart);
        return out;
    }
    json out{{"architectures", {family == Family::Qwen2_5VL ? "Qwen2_5_VLForConditionalGeneration" : "Qwen2VLForConditionalGeneration"}},
             {"model_type", familyModelType(family)},
             {"rope_scaling", rope},
             {"torch_dtype", dtype},
             {"vision_config", visionPart}};
    out.update(textPart);
    out.update(tokenPart);
    return out;
}

} // namespace unirank::model
