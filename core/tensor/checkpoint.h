// SPDX-License-Identifier: GPL-3.0-or-later
// A Hugging Face checkpoint folder's weights: `model.safetensors`, or the shards named by
// `model.safetensors.index.json` ({"weight_map": {tensor: shard file}}). Shards are memory-mapped once;
// lookups are by tensor name as stored (name mapping between naming schemes is the model loader's job).
//
// Threading: immutable after open(); share freely. Errors: open() returns BadInput naming the file and
// tensor (a shard missing, a tensor the index lists but its shard lacks, a malformed shard).
#pragma once

#include "core/tensor/safetensors.h"

#include <unordered_map>

namespace unirank::tensor {

class Checkpoint {
public:
    struct Entry {
        std::shared_ptr<const SafetensorsFile> file;
        const TensorInfo *info = nullptr;
    };

    /// `path` is a checkpoint folder or a single .safetensors file.
    static Result<Checkpoint> open(const std::filesystem::path &path);

    const Entry *find(std::string_view name) const; ///< nullptr when absent
    std::vector<std::string> names() const;         ///< sorted
    std::size_t size() const { return m_entries.size(); }
    std::span<const std::byte> bytes(const Entry &e) const { return e.file->bytes(*e.info); }
    /// Where a tensor lives, for error messages: "dir/model-00001-of-00002.safetensors".
    std::string describe(const Entry &e) const { return e.file->path().string(); }

private:
    std::unordered_map<std::string, Entry> m_entries;
};

} // namespace unirank::tensor
