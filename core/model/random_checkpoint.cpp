// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/model/random_checkpoint.h"

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

nlohmann::json preprocessorConfig()
{
    return {{"min_pixels", 3136},
            {"max_pixels", 12845056},
            {"patch_size", 14},
            {"temporal_patch_size", 2},
            {"merge_size", 2},
            {"image_mean", {0.48145466, 0.4578275, 0.40821073}},
            {"image_std", {0.26862954, 0.26130258, 0.27577711}},
            {"image_processor_type", "Qwen2VLImageProcessor"},
            {"processor_class", "Qwen2VLProcessor"}};
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
    const auto &v = c.vision;
    const auto e = v.embedDim, m = v.mlpHidden(), g = e * v.spatialMergeSize * v.spatialMergeSize;
    t.push_back({"visual.patch_embed.proj.weight", {e, v.inChannels, v.temporalPatchSize, v.patchSize, v.patchSize}});
    for (std::int64_t i = 0; i < v.depth; ++i) {
        const auto p = "visual.blocks." + std::to_string(i) + ".";
        for (const char *n : {"norm1", "norm2"}) {
            t.push_back({p + n + ".weight", {e}});
            t.push_back({p + n + ".bias", {e}});
        }
        t.push_back({p + "attn.qkv.weight", {3 * e, e}});
        t.push_back({p + "attn.qkv.bias", {3 * e}});
        t.push_back({p + "attn.proj.weight", {e, e}});
        t.push_back({p + "attn.proj.bias", {e}});
        t.push_back({p + "mlp.fc1.weight", {m, e}});
        t.push_back({p + "mlp.fc1.bias", {m}});
        t.push_back({p + "mlp.fc2.weight", {e, m}});
        t.push_back({p + "mlp.fc2.bias", {e}});
    }
    t.push_back({"visual.merger.ln_q.weight", {e}});
    t.push_back({"visual.merger.ln_q.bias", {e}});
    t.push_back({"visual.merger.mlp.0.weight", {g, g}});
    t.push_back({"visual.merger.mlp.0.bias", {g}});
    t.push_back({"visual.merger.mlp.2.weight", {v.hiddenSize, g}});
    t.push_back({"visual.merger.mlp.2.bias", {v.hiddenSize}});
    const auto &x = c.text;
    const auto h = x.hiddenSize, q = x.numHeads * x.headDim, kv = x.numKvHeads * x.headDim;
    t.push_back({"model.embed_tokens.weight", {x.vocabSize, h}});
    for (std::int64_t i = 0; i < x.numLayers; ++i) {
        const auto p = "model.layers." + std::to_string(i) + ".";
        t.push_back({p + "self_attn.q_proj.weight", {q, h}});
        t.push_back({p + "self_attn.q_proj.bias", {q}});
        t.push_back({p + "self_attn.k_proj.weight", {kv, h}});
        t.push_back({p + "self_attn.k_proj.bias", {kv}});
        t.push_back({p + "self_attn.v_proj.weight", {kv, h}});
        t.push_back({p + "self_attn.v_proj.bias", {kv}});
        t.push_back({p + "self_attn.o_proj.weight", {h, q}});
        t.push_back({p + "mlp.gate_proj.weight", {x.intermediateSize, h}});
        t.push_back({p + "mlp.up_proj.weight", {x.intermediateSize, h}});
        t.push_back({p + "mlp.down_proj.weight", {h, x.intermediateSize}});
        t.push_back({p + "input_layernorm.weight", {h}});
        t.push_back({p + "post_attention_layernorm.weight", {h}});
    }
    t.push_back({"model.norm.weight", {h}});
    if (!x.tieWordEmbeddings)
        t.push_back({"lm_head.weight", {x.vocabSize, h}});
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
    writeText(folder / "preprocessor_config.json", preprocessorConfig().dump(2) + "\n");
    const nlohmann::json index = {{"metadata", {{"total_size", total}}}, {"weight_map", weightMap}};
    writeText(folder / "model.safetensors.index.json", index.dump(2) + "\n");
    return total;
}

} // namespace unirank::model
