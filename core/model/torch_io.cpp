// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/model/torch_io.h"

#include <cstring>

namespace unirank::model {

using tensor::DType;

torch::ScalarType toTorchType(DType type)
{
    switch (type) {
    case DType::Bool: return torch::kBool;
    case DType::U8: return torch::kUInt8;
    case DType::I8: return torch::kInt8;
    case DType::I16: return torch::kInt16;
    case DType::I32: return torch::kInt32;
    case DType::I64: return torch::kInt64;
    case DType::F16: return torch::kHalf;
    case DType::BF16: return torch::kBFloat16;
    case DType::F32: return torch::kFloat32;
    case DType::F64: return torch::kFloat64;
    default:
        throw InputError("dtype " + std::string(tensor::dtypeName(type)) + " has no libtorch equivalent here");
    }
}

DType fromTorchType(torch::ScalarType type)
{
    switch (type) {
    case torch::kBool: return DType::Bool;
    case torch::kUInt8: return DType::U8;
    case torch::kInt8: return DType::I8;
    case torch::kInt16: return DType::I16;
    case torch::kInt32: return DType::I32;
    case torch::kInt64: return DType::I64;
    case torch::kHalf: return DType::F16;
    case torch::kBFloat16: return DType::BF16;
    case torch::kFloat32: return DType::F32;
    case torch::kFloat64: return DType::F64;
    default: throw InputError(std::string("cannot store tensors of type ") + c10::toString(type));
    }
}

torch::Tensor readTensor(const tensor::SafetensorsFile &file, const tensor::TensorInfo &info)
{
    torch::ScalarType type;
    try {
        type = toTorchType(info.dtype);
    } catch (const InputError &e) {
        throw InputError(file.path().string() + ": tensor '" + info.name + "': " + e.what());
    }
    auto out = torch::empty(info.shape, torch::TensorOptions().dtype(type));
    const auto bytes = file.bytes(info);
    if (!bytes.empty())
        std::memcpy(out.data_ptr(), bytes.data(), bytes.size());
    return out;
}

torch::Tensor readTensor(const tensor::SafetensorsFile &file, std::string_view name)
{
    const auto *info = file.find(name);
    if (!info)
        throw InputError(file.path().string() + ": tensor '" + std::string(name) + "' is missing");
    return readTensor(file, *info);
}

torch::Tensor readTensor(const tensor::Checkpoint &, const tensor::Checkpoint::Entry &entry)
{
    return readTensor(*entry.file, *entry.info);
}

torch::Tensor readTensorAs(const tensor::Checkpoint::Entry &entry, torch::ScalarType dtype, torch::Device device)
{
    const auto &file = *entry.file;
    const auto &info = *entry.info;
    torch::ScalarType type;
    try {
        type = toTorchType(info.dtype);
    } catch (const InputError &e) {
        throw InputError(file.path().string() + ": tensor '" + info.name + "': " + e.what());
    }
    const auto bytes = file.bytes(info);
    const auto options = torch::TensorOptions().dtype(type);
    if (bytes.empty())
        return torch::empty(info.shape, options.dtype(dtype).device(device));
    auto *data = const_cast<std::byte *>(bytes.data()); // the mapping is private and writable
    const bool aligned = reinterpret_cast<std::uintptr_t>(data) % c10::elementSize(type) == 0;
    if (device.is_cpu() && type == dtype && aligned) {
        auto keep = entry.file; // the tensor holds the mapping
        return torch::from_blob(data, info.shape, [keep](void *) {}, options);
    }
    torch::Tensor source = aligned ? torch::from_blob(data, info.shape, options) : readTensor(file, info);
    auto out = source.to(device, dtype, /*non_blocking=*/false, /*copy=*/true);
    file.release(info);
    return out;
}

Result<std::map<std::string, torch::Tensor>> readSafetensors(const std::filesystem::path &path)
{
    auto file = tensor::SafetensorsFile::open(path);
    if (!file)
        return std::unexpected(file.error());
    std::map<std::string, torch::Tensor> out;
    try {
        for (const auto &info : (*file)->tensors())
            out.emplace(info.name, readTensor(**file, info));
    } catch (const InputError &e) {
        return std::unexpected(Error{ErrorKind::BadInput, e.what()});
    }
    return out;
}

void writeTensors(const std::filesystem::path &path, const std::vector<std::pair<std::string, torch::Tensor>> &tensors,
                  const std::map<std::string, std::string> &metadata)
{
    std::vector<torch::Tensor> keep;
    std::vector<tensor::TensorData> data;
    keep.reserve(tensors.size());
    for (const auto &[name, t] : tensors) {
        keep.push_back(t.detach().to(torch::kCPU).contiguous());
        const auto &c = keep.back();
        data.push_back({name, fromTorchType(c.scalar_type()),
                        std::vector<std::int64_t>(c.sizes().begin(), c.sizes().end()),
                        {static_cast<const std::byte *>(c.data_ptr()), c.nbytes()}});
    }
    tensor::writeSafetensors(path, data, metadata);
}

} // namespace unirank::model
