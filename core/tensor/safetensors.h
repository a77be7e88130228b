// SPDX-License-Identifier: GPL-3.0-or-later
// The safetensors file format (Hugging Face): 8-byte little-endian header length, a JSON header
// {name: {dtype, shape, data_offsets}, "__metadata__": {...}}, then the raw little-endian data.
//
// SafetensorsFile maps a file read-only and validates the whole header before anything is read:
// header length inside the file, valid JSON object, no duplicate names, known dtypes, non-negative
// shapes, byte size = dtype size x element count, offsets inside the data buffer, and the tensors
// tiling the buffer exactly (no overlap, no gap, no trailing bytes), as the reference reader requires.
// Every error names the file and, where it applies, the tensor.
//
// Threading: an open SafetensorsFile is immutable; any number of threads may read it. The mapping lives
// as long as the last shared_ptr to it. Errors: open() returns Error{BadInput} for a malformed file.
#pragma once

#include "core/tensor/dtype.h"
#include "core/util/error.h"

#include <cstdint>
#include <filesystem>
#include <map>
#include <memory>
#include <span>
#include <string>
#include <vector>

namespace unirank::tensor {

struct TensorInfo {
    std::string name;
    DType dtype = DType::F32;
    std::vector<std::int64_t> shape;
    std::uint64_t begin = 0; ///< offset in the data buffer (after the header)
    std::uint64_t end = 0;   ///< exclusive

    std::int64_t numel() const;
    std::uint64_t byteSize() const { return end - begin; }
};

/// The validated header of a safetensors file: tensors sorted by name, metadata, where the data begins.
struct SafetensorsLayout {
    std::vector<TensorInfo> tensors;
    std::map<std::string, std::string> metadata;
    std::size_t dataStart = 0; ///< byte offset of the data buffer in the file
};

/// Validates the header of a whole safetensors file held in memory (all the checks open() makes; the
/// fuzz target's entry point). `path` only names the file in error messages. Never reads past `bytes`.
Result<SafetensorsLayout> parseSafetensorsLayout(std::span<const std::byte> bytes, const std::filesystem::path &path);

class SafetensorsFile {
public:
    static Result<std::shared_ptr<const SafetensorsFile>> open(const std::filesystem::path &path);
    ~SafetensorsFile();
    SafetensorsFile(const SafetensorsFile &) = delete;
    SafetensorsFile &operator=(const SafetensorsFile &) = delete;

    const std::filesystem::path &path() const { return m_path; }
    const std::vector<TensorInfo> &tensors() const { return m_tensors; } ///< sorted by name
    const TensorInfo *find(std::string_view name) const;                 ///< nullptr when absent
    std::span<const std::byte> bytes(const TensorInfo &info) const;
    /// Drops the tensor's pages from this process's memory (they are read again from the file when
    /// touched). For tensors copied out; pages of a tensor used in place lose any writes.
    void release(const TensorInfo &info) const;
    const std::map<std::string, std::string> &metadata() const { return m_metadata; }

private:
    SafetensorsFile() = default;
    std::filesystem::path m_path;
    const std::byte *m_map = nullptr;
    std::size_t m_mapSize = 0;
    std::size_t m_dataStart = 0;
    std::vector<TensorInfo> m_tensors;
    std::map<std::string, std::string> m_metadata;
};

/// One tensor to write: the bytes must be prod(shape) x dtypeSize(dtype) long, little-endian, row-major.
struct TensorData {
    std::string name;
    DType dtype = DType::F32;
    std::vector<std::int64_t> shape;
    std::span<const std::byte> data;
};

/// Writes a safetensors file atomically (temp file + fsync + rename). Tensors are laid out by
/// descending alignment then name, the header padded with spaces to a multiple of 8 (as the reference
/// writer does). Throws InputError for a duplicate name or a size mismatch; std::system_error on I/O.
void writeSafetensors(const std::filesystem::path &path, const std::vector<TensorData> &tensors,
                      const std::map<std::string, std::string> &metadata = {{"format", "pt"}});

/// The header bytes (length prefix + JSON + padding) writeSafetensors would write; for tests that craft
/// malformed files.
std::string encodeSafetensorsHeader(const std::vector<TensorData> &tensors,
                                    const std::map<std::string, std::string> &metadata);

} // namespace unirank::tensor
