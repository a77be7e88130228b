// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/model/random_checkpoint.h"

#include "core/model/loader.h"

#include <nlohmann/json.hpp>

#include <cstring>
#include <fstream>
#include <system_error>

namespace fs = std::filesystem;

namespace unirank::model {
namespace {

std::uint64_t fnv1a(const std::string &s)
{
    std::uint64_t h = 1469598103934665603ull;
    for (const unsigned char c : s)
        h = (h ^ c) * 1099511628211ull;
    return h;
}

std::uint64_t splitmix(std::uint64_t x)
{
    x += 0x9E3779B97F4A7C15ull;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ull;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBull;
    return x ^ (x >> 31);
}

bool endsWith(const std::string &s, std::string_view tail)
{
    return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

/// float32 -> bf16 with round-to-nearest-even, in integers.
std::uint16_t toBf16(float f)
{
    std::uint32_t u = 0;
    std::memcpy(&u, &f, 4);
    return static_cast<std::uint16_t>((u + 0x7FFFu + ((u >> 16) & 1u)) >> 16);
}

std::int64_t numel(const std::vector<std::int64_t> &shape)
{
    std::int64_t n = 1;
    for (const auto d : shape)
        n *= d;
    return n;
}

void check(const std::ofstream &out, const fs::path &path)
{
    if (!out)
        throw std::system_error(errno, std::generic_category(), "writing " + path.string());
}

void writeText(const fs::path &path, const std::string &text)
{
    const auto tmp = fs::path(path.string() + ".tmp");
    {
        std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
        out << text;
        out.flush();
        check(out, tmp);
    }
    fs::rename(tmp, path);
}

/// The preprocessor_config.json each family's Hub checkpoints ship.
nlohmann::json preprocessorConfig(Family family)
{
    if (family == Family::Qwen3VL)
        return {{"size", {{"longest_edge", 16777216}, {"shortest_edge", 65536}}},
                {"patch_size", 16},
                {"temporal_patch_size", 2},
                {"merge_size", 2},
                {"image_mean", {0.5, 0.5, 0.5}},
                {"image_std", {0.5, 0.5, 0.5}},
                {"processor_class", "Qwen3VLProcessor"},
                {"image_processor_type", "Qwen2VLImageProcessorFast"}};
    return {{"min_pixels", 3136},
            {"max_pixels", 12845056},
            {"patch_size", 14},
            {"temporal_patch_size", 2},
            {"merge_size", 2},
            {"image_mean", {0.48145466, 0.4578275, 0.40821073}},
            {"image_std", {0.26862954, 0.26130258, 0.27577711}},
            {"image_processor_type", "Qwen2VLImageProcessor"},
            {"processor_class", family == Family::Qwen2_5VL ? "Qwen2_5_VLProcessor" : "Qwen2VLProcessor"}};
}

/// Vision tensors under canonical names (`visual.*`).
void visionTensors(const VisionConfig &v, std::vector<TensorShape> &t)
{
    const auto e = v.embedDim, m = v.mlpHidden(), g = e * v.spatialMergeSize * v.spatialMergeSize;
    const auto qwen3 = v.family == Family::Qwen3VL;
    t.push_back({"visual.patch_embed.proj.weight", {e, v.inChannels, v.temporalPatchSize, v.patchSize, v.patchSize}});
    if (qwen3) {
        t.push_back({"visual.patch_embed.proj.bias", {e}});
        t.push_back({"visual.pos_embed.weight", {v.numPositionEmbeddings, e}});
    }
    const auto linear = [&](const std::string &name, std::int64_t out, std::int64_t in) {
        t.push_back({name + ".weight", {out, in}});
        t.push_back({name + ".bias", {out}});
    };
    const auto norm = [&](const std::string &name, std::int64_t dim) {
        t.push_back({name + ".weight", {dim}});
        if (v.family != Family::Qwen2_5VL) // RMSNorm has no bias
            t.push_back({name + ".bias", {dim}});
    };
    for (std::int64_t i = 0; i < v.depth; ++i) {
        const auto p = "visual.blocks." + std::to_string(i) + ".";
        norm(p + "norm1", e);
        norm(p + "norm2", e);
        linear(p + "attn.qkv", 3 * e, e);
        linear(p + "attn.proj", e, e);
        switch (v.family) {
        case Family::Qwen2VL:
            linear(p + "mlp.fc1", m, e);
            linear(p + "mlp.fc2", e, m);
            break;
        case Family::Qwen2_5VL:
            linear(p + "mlp.gate_proj", m, e);
            linear(p + "mlp.up_proj", m, e);
            linear(p + "mlp.down_proj", e, m);
            break;
        case Family::Qwen3VL:
            linear(p + "mlp.linear_fc1", m, e);
            linear(p + "mlp.linear_fc2", e, m);
            break;
        }
    }
    if (qwen3) {
        const auto merger = [&](const std::string &p, std::int64_t normDim) {
            norm(p + "norm", normDim);
            linear(p + "linear_fc1", g, g);
            linear(p + "linear_fc2", v.hiddenSize, g);
        };
        merger("visual.merger.", e);
        for (std::size_t k = 0; k < v.deepstackIndexes.size(); ++k)
            merger("visual.deepstack_merger_list." + std::to_string(k) + ".", g);
    } else {
        norm("visual.merger.ln_q", e);
        linear("visual.merger.mlp.0", g, g);
        linear("visual.merger.mlp.2", v.hiddenSize, g);
    }
}

} // namespace

float randomWeight(std::uint64_t seed, const std::string &name, std::uint64_t index)
{
    const auto r = splitmix(splitmix(seed ^ fnv1a(name)) + index);
    // 255 levels -127..127: uniform with variance (127*128/3) step^2 (73.61^2). The arithmetic is exact
    // in double (7 + 24 significant bits, plus 1.0), so the one rounding to float is the same everywhere,
    // with or without FMA contraction.
    const auto level = static_cast<double>(static_cast<std::int64_t>(r % 255) - 127);
    const bool norm = name.find("norm") != std::string::npos && endsWith(name, ".weight");
    const double step = static_cast<double>(norm ? 0.1f / 73.61f : 0.02f / 73.61f);
    return static_cast<float>(norm ? 1.0 + level * step : level * step);
}

std::vector<TensorShape> checkpointTensors(const Qwen2VLConfig &c)
{
    std::vector<TensorShape> t;
    visionTensors(c.vision, t);
    const auto &x = c.text;
    const auto h = x.hiddenSize, q = x.numHeads * x.headDim, kv = x.numKvHeads * x.headDim;
    t.push_back({"model.embed_tokens.weight", {x.vocabSize, h}});
    for (std::int64_t i = 0; i < x.numLayers; ++i) {
        const auto p = "model.layers." + std::to_string(i) + ".";
        const auto proj = [&](const std::string &name, std::int64_t out, std::int64_t in, bool bias) {
            t.push_back({p + name + ".weight", {out, in}});
            if (bias)
                t.push_back({p + name + ".bias", {out}});
        };
        proj("self_attn.q_proj", q, h, x.qkvBias);
        proj("self_attn.k_proj", kv, h, x.qkvBias);
        proj("self_attn.v_proj", kv, h, x.qkvBias);
        proj("self_attn.o_proj", h, q, x.outputBias);
        if (x.qkNorm) {
            t.push_back({p + "self_attn.q_norm.weight", {x.headDim}});
            t.push_back({p + "self_attn.k_norm.weight", {x.headDim}});
        }
        t.push_back({p + "mlp.gate_proj.weight", {x.intermediateSize, h}});
        t.push_back({p + "mlp.up_proj.weight", {x.intermediateSize, h}});
        t.push_back({p + "mlp.down_proj.weight", {h, x.intermediateSize}});
        t.push_back({p + "input_layernorm.weight", {h}});
        t.push_back({p + "post_attention_layernorm.weight", {h}});
    }
    t.push_back({"model.norm.weight", {h}});
    if (!x.tieWordEmbeddings)
        t.push_back({"lm_head.weight", {x.vocabSize, h}});
    for (auto &shape : t) // the family's Hub names (Qwen3-VL: model.visual.*, model.language_model.*)
        shape.name = hubTensorName(shape.name, c.family());
    return t;
}

std::uint64_t writeRandomCheckpoint(const Qwen2VLConfig &config, const fs::path &folder,
                                    const RandomCheckpointOptions &options)
{
    fs::create_directories(folder);
    const auto tensors = checkpointTensors(config);
    const std::uint64_t elementBytes = options.bf16 ? 2 : 4;
    // Shards in the Hub's order of tensors, split by size.
    std::vector<std::vector<const TensorShape *>> shards(1);
    std::uint64_t inShard = 0, total = 0;
    for (const auto &t : tensors) {
        const auto bytes = static_cast<std::uint64_t>(numel(t.shape)) * elementBytes;
        if (inShard > 0 && inShard + bytes > options.shardBytes) {
            shards.emplace_back();
            inShard = 0;
        }
        shards.back().push_back(&t);
        inShard += bytes;
        total += bytes;
    }
    nlohmann::json weightMap = nlohmann::json::object();
    std::vector<char> buffer;
    for (std::size_t s = 0; s < shards.size(); ++s) {
        char name[64];
        std::snprintf(name, sizeof name, "model-%05zu-of-%05zu.safetensors", s + 1, shards.size());
        nlohmann::json header = {{"__metadata__", {{"format", "pt"}}}};
        std::uint64_t offset = 0;
        for (const auto *t : shards[s]) {
            const auto bytes = static_cast<std::uint64_t>(numel(t->shape)) * elementBytes;
            header[t->name] = {{"dtype", options.bf16 ? "BF16" : "F32"}, {"shape", t->shape}, {"data_offsets", {offset, offset + bytes}}};
            offset += bytes;
            weightMap[t->name] = name;
        }
        auto headerText = header.dump();
        headerText.append((8 - headerText.size() % 8) % 8, ' ');
        const auto path = folder / name, tmp = fs::path(path.string() + ".tmp");
        {
            std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
            const std::uint64_t length = headerText.size(); // little-endian on every platform we build for
            out.write(reinterpret_cast<const char *>(&length), 8);
            out.write(headerText.data(), static_cast<std::streamsize>(headerText.size()));
            for (const auto *t : shards[s]) {
                const auto n = static_cast<std::uint64_t>(numel(t->shape));
                constexpr std::uint64_t kChunk = 1 << 20;
                for (std::uint64_t at = 0; at < n; at += kChunk) {
                    const auto count = std::min(kChunk, n - at);
                    buffer.resize(count * elementBytes);
                    for (std::uint64_t i = 0; i < count; ++i) {
                        const float value = randomWeight(options.seed, t->name, at + i);
                        if (options.bf16) {
                            const auto b = toBf16(value);
                            std::memcpy(buffer.data() + i * 2, &b, 2);
                        } else {
                            std::memcpy(buffer.data() + i * 4, &value, 4);
                        }
                    }
                    out.write(buffer.data(), static_cast<std::streamsize>(buffer.size()));
                }
            }
            out.flush();
            check(out, tmp);
        }
        fs::rename(tmp, path);
    }
    auto cfg = config.toJson();
    cfg["torch_dtype"] = options.bf16 ? "bfloat16" : "float32";
    writeText(folder / "config.json", cfg.dump(2) + "\n");
    writeText(folder / "preprocessor_config.json", preprocessorConfig(config.family()).dump(2) + "\n");
    const nlohmann::json index = {{"metadata", {{"total_size", total}}}, {"weight_map", weightMap}};
    writeText(folder / "model.safetensors.index.json", index.dump(2) + "\n");
    return total;
}

} // namespace unirank::model
