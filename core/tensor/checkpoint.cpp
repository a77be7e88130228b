// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/tensor/checkpoint.h"

#include "core/util/atomic_file.h"
#include "core/util/json_text.h"

#include <nlohmann/json.hpp>

#include <algorithm>

namespace fs = std::filesystem;

namespace unirank::tensor {
namespace {

Error bad(const fs::path &path, const std::string &what)
{
    return Error{ErrorKind::BadInput, path.string() + ": " + what};
}

} // namespace

Result<Checkpoint> Checkpoint::open(const fs::path &path)
{
    Checkpoint ckpt;
    std::error_code ec;
    if (fs::is_regular_file(path, ec)) {
        auto file = SafetensorsFile::open(path);
        if (!file)
            return std::unexpected(file.error());
        for (const auto &t : (*file)->tensors())
            ckpt.m_entries.emplace(t.name, Entry{*file, &t});
        return ckpt;
    }
    if (!fs::is_directory(path, ec))
        return std::unexpected(bad(path, fs::exists(path, ec) ? "not a regular file (nor a folder)"
                                                              : "no such checkpoint folder or file"));
    const auto index = path / "model.safetensors.index.json";
    if (!fs::exists(index, ec)) {
        const auto single = path / "model.safetensors";
        if (!fs::exists(single, ec)) {
            for (const char *pickled : {"pytorch_model.bin", "pytorch_model.bin.index.json", "model.pt", "model.pth"})
                if (fs::exists(path / pickled, ec))
                    return std::unexpected(bad(path, std::string("holds only ") + pickled +
                                                         ", a pickle that can run code when loaded: only safetensors "
                                                         "is loaded (convert with save_pretrained(..., "
                                                         "safe_serialization=True))"));
            return std::unexpected(bad(path, "holds neither model.safetensors nor model.safetensors.index.json"));
        }
        return open(single);
    }
    nlohmann::json json;
    try {
        json = readJsonFile(index);
    } catch (const InputError &e) {
        return std::unexpected(Error{ErrorKind::BadInput, e.what()});
    }
    const auto map = json.find("weight_map");
    if (!json.is_object() || map == json.end() || !map->is_object())
        return std::unexpected(bad(index, "field 'weight_map' is missing or not an object"));
    std::unordered_map<std::string, std::shared_ptr<const SafetensorsFile>> shards;
    for (const auto &[name, shardValue] : map->items()) {
        if (!shardValue.is_string())
            return std::unexpected(bad(index, "weight_map entry '" + name + "' is not a file name"));
        const auto shardName = shardValue.get<std::string>();
        if (shardName.empty() || shardName.find('/') != std::string::npos || shardName.starts_with("."))
            return std::unexpected(bad(index, "weight_map entry '" + name + "' names '" + shardName +
                                                  "', which is not a file in the checkpoint folder"));
        auto &shard = shards[shardName];
        if (!shard) {
            auto opened = SafetensorsFile::open(path / shardName);
            if (!opened)
                return std::unexpected(opened.error());
            shard = *opened;
        }
        const auto *info = shard->find(name);
        if (!info)
            return std::unexpected(bad(path / shardName, "tensor '" + name + "' is listed in " +
                                                             index.filename().string() + " but missing here"));
        ckpt.m_entries.emplace(name, Entry{shard, info});
    }
    return ckpt;
}

const Checkpoint::Entry *Checkpoint::find(std::string_view name) const
{
    const auto it = m_entries.find(std::string(name));
    return it == m_entries.end() ? nullptr : &it->second;
}

std::vector<std::string> Checkpoint::names() const
{
    std::vector<std::string> out;
    out.reserve(m_entries.size());
    for (const auto &[name, e] : m_entries)
        out.push_back(name);
    std::sort(out.begin(), out.end());
    return out;
}

} // namespace unirank::tensor
