// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/tensor/safetensors.h"

#include "core/util/atomic_file.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstring>
#include <fcntl.h>
#include <limits>
#include <set>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

namespace unirank::tensor {
namespace {

constexpr std::uint64_t kMaxHeaderBytes = 100ull << 20; // the reference reader's limit
constexpr int kMaxHeaderDepth = 8;                     // {name: {shape: [...]}} is 3 deep
struct HeaderTooDeep {};

Error bad(const std::filesystem::path &path, const std::string &what)
{
    return Error{ErrorKind::BadInput, path.string() + ": " + what};
}

std::string tensorWhere(const std::string &name)
{
    return "tensor '" + name + "': ";
}

/// prod(shape) * size with overflow checks; nullopt on overflow.
std::optional<std::uint64_t> byteCount(const std::vector<std::int64_t> &shape, std::size_t elementSize)
{
    std::uint64_t n = elementSize;
    for (const auto d : shape) {
        const auto ud = static_cast<std::uint64_t>(d);
        if (ud != 0 && n > std::numeric_limits<std::uint64_t>::max() / ud)
            return std::nullopt;
        n *= ud;
    }
    return n;
}

std::optional<std::string> parseEntry(const std::string &name, const nlohmann::json &v, TensorInfo &out)
{
    if (!v.is_object())
        return "the header entry is not an object";
    const auto dt = v.find("dtype");
    if (dt == v.end() || !dt->is_string())
        return "missing field 'dtype'";
    const auto type = parseDType(dt->get<std::string>());
    if (!type)
        return "unknown dtype '" + dt->get<std::string>() + "'";
    const auto sh = v.find("shape");
    if (sh == v.end() || !sh->is_array())
        return "missing field 'shape'";
    std::vector<std::int64_t> shape;
    for (const auto &d : *sh) {
        if (!d.is_number_integer() || d.get<std::int64_t>() < 0)
            return "field 'shape' must hold non-negative integers";
        shape.push_back(d.get<std::int64_t>());
    }
    const auto off = v.find("data_offsets");
    if (off == v.end() || !off->is_array() || off->size() != 2 || !(*off)[0].is_number_unsigned() ||
        !(*off)[1].is_number_unsigned())
        return "field 'data_offsets' must be two non-negative integers";
    const auto begin = (*off)[0].get<std::uint64_t>();
    const auto end = (*off)[1].get<std::uint64_t>();
    if (end < begin)
        return "data_offsets end before they begin";
    const auto expected = byteCount(shape, dtypeSize(*type));
    if (!expected)
        return "shape overflows";
    if (end - begin != *expected)
        return "data_offsets span " + std::to_string(end - begin) + " bytes but dtype " +
               std::string(dtypeName(*type)) + " x shape needs " + std::to_string(*expected);
    out = TensorInfo{name, *type, std::move(shape), begin, end};
    return std::nullopt;
}

struct Layout {
    std::vector<const TensorData *> order;
    std::string header; // length prefix + JSON + padding
};

Layout layoutFor(const std::vector<TensorData> &tensors, const std::map<std::string, std::string> &metadata)
{
    Layout layout;
    std::set<std::string_view> names;
    for (const auto &t : tensors) {
        if (!names.insert(t.name).second)
            throw InputError("safetensors: tensor '" + t.name + "' is listed twice");
        const auto need = byteCount(t.shape, dtypeSize(t.dtype));
        if (!need || *need != t.data.size())
            throw InputError("safetensors: tensor '" + t.name + "' has " + std::to_string(t.data.size()) +
                             " bytes, its dtype and shape need " + (need ? std::to_string(*need) : "too many"));
        layout.order.push_back(&t);
    }
    std::sort(layout.order.begin(), layout.order.end(), [](const TensorData *a, const TensorData *b) {
        const auto sa = dtypeSize(a->dtype), sb = dtypeSize(b->dtype);
        return sa != sb ? sa > sb : a->name < b->name;
    });
    nlohmann::ordered_json header = nlohmann::ordered_json::object();
    if (!metadata.empty())
        header["__metadata__"] = metadata;
    std::uint64_t offset = 0;
    for (const auto *t : layout.order) {
        header[t->name] = {{"dtype", dtypeName(t->dtype)},
                           {"shape", t->shape},
                           {"data_offsets", {offset, offset + t->data.size()}}};
        offset += t->data.size();
    }
    std::string json = header.dump();
    json.append((8 - json.size() % 8) % 8, ' ');
    std::uint64_t n = json.size();
    layout.header.resize(8);
    for (int i = 0; i < 8; ++i)
        layout.header[static_cast<std::size_t>(i)] = static_cast<char>((n >> (8 * i)) & 0xFF);
    layout.header += json;
    return layout;
}

} // namespace

std::int64_t TensorInfo::numel() const
{
    std::int64_t n = 1;
    for (const auto d : shape)
        n *= d;
    return n;
}

Result<SafetensorsLayout> parseSafetensorsLayout(std::span<const std::byte> bytes, const std::filesystem::path &path)
{
    SafetensorsLayout out;
    const auto size = static_cast<std::uint64_t>(bytes.size());
    if (size < 8)
        return std::unexpected(bad(path, "truncated: " + std::to_string(size) + " bytes, no header length"));
    std::uint64_t n = 0;
    for (int i = 7; i >= 0; --i)
        n = (n << 8) | std::to_integer<std::uint64_t>(bytes[static_cast<std::size_t>(i)]);
    if (n > kMaxHeaderBytes)
        return std::unexpected(bad(path, "header length " + std::to_string(n) + " is larger than the 100 MB limit"));
    if (n > size - 8)
        return std::unexpected(bad(path, "truncated: the header length " + std::to_string(n) +
                                             " runs past the end of the file (" + std::to_string(size) + " bytes)"));
    const std::string_view text(reinterpret_cast<const char *>(bytes.data() + 8), n);
    std::set<std::string> seen;
    std::string duplicate;
    const nlohmann::json::parser_callback_t noteKeys = [&](int depth, nlohmann::json::parse_event_t event,
                                                           nlohmann::json &parsed) {
        if ((event == nlohmann::json::parse_event_t::object_start ||
             event == nlohmann::json::parse_event_t::array_start) &&
            depth > kMaxHeaderDepth)
            throw HeaderTooDeep{};
        if (depth == 1 && event == nlohmann::json::parse_event_t::key && parsed.is_string() &&
            !seen.insert(parsed.get<std::string>()).second && duplicate.empty())
            duplicate = parsed.get<std::string>();
        return true;
    };
    nlohmann::json header;
    try {
        header = nlohmann::json::parse(text, noteKeys);
    } catch (const nlohmann::json::exception &e) {
        return std::unexpected(bad(path, std::string("the header is not valid JSON: ") + e.what()));
    } catch (const HeaderTooDeep &) {
        return std::unexpected(bad(path, "the header nests JSON deeper than " + std::to_string(kMaxHeaderDepth) +
                                             " levels (a safetensors header has 3)"));
    }
    if (!header.is_object())
        return std::unexpected(bad(path, "the header is not a JSON object"));
    if (!duplicate.empty())
        return std::unexpected(bad(path, tensorWhere(duplicate) + "listed twice in the header"));
    out.dataStart = 8 + static_cast<std::size_t>(n);
    const std::uint64_t dataSize = size - 8 - n;
    for (const auto &[name, value] : header.items()) {
        if (name == "__metadata__") {
            if (!value.is_object())
                return std::unexpected(bad(path, "__metadata__ is not an object"));
            for (const auto &[k, v] : value.items()) {
                if (!v.is_string())
                    return std::unexpected(bad(path, "__metadata__ value '" + k + "' is not a string"));
                out.metadata[k] = v.get<std::string>();
            }
            continue;
        }
        TensorInfo info;
        if (const auto why = parseEntry(name, value, info))
            return std::unexpected(bad(path, tensorWhere(name) + *why));
        if (info.end > dataSize)
            return std::unexpected(bad(path, tensorWhere(name) + "data_offsets [" + std::to_string(info.begin) +
                                                 ", " + std::to_string(info.end) +
                                                 ") run past the end of the data (" + std::to_string(dataSize) +
                                                 " bytes): the file is truncated"));
        out.tensors.push_back(std::move(info));
    }
    // The tensors must tile the data buffer: sorted by offset, each begins where the previous ended.
    std::vector<const TensorInfo *> byOffset;
    for (const auto &t : out.tensors)
        byOffset.push_back(&t);
    std::sort(byOffset.begin(), byOffset.end(), [](const TensorInfo *a, const TensorInfo *b) {
        return a->begin != b->begin ? a->begin < b->begin : a->end < b->end;
    });
    std::uint64_t cursor = 0;
    const TensorInfo *previous = nullptr;
    for (const auto *t : byOffset) {
        if (t->begin < cursor)
            return std::unexpected(bad(path, tensorWhere(t->name) + "its data overlaps tensor '" + previous->name + "'"));
        if (t->begin > cursor)
            return std::unexpected(bad(path, tensorWhere(t->name) + "a gap of " + std::to_string(t->begin - cursor) +
                                                 " bytes lies before its data"));
        cursor = t->end;
        previous = t;
    }
    if (cursor != dataSize)
        return std::unexpected(bad(path, std::to_string(dataSize - cursor) +
                                             " bytes after the last tensor belong to no tensor"));
    std::sort(out.tensors.begin(), out.tensors.end(),
              [](const TensorInfo &a, const TensorInfo &b) { return a.name < b.name; });
    return out;
}

Result<std::shared_ptr<const SafetensorsFile>> SafetensorsFile::open(const std::filesystem::path &path)
{
    const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC | O_NONBLOCK);
    if (fd < 0)
        return std::unexpected(bad(path, std::string("cannot open: ") + std::strerror(errno)));
    struct stat st {};
    if (::fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
        ::close(fd);
        return std::unexpected(bad(path, "not a regular file"));
    }
    std::shared_ptr<SafetensorsFile> file(new SafetensorsFile);
    file->m_path = path;
    file->m_mapSize = static_cast<std::size_t>(st.st_size);
    if (file->m_mapSize > 0) {
        // Private and writable: a tensor used in place (model/torch_io's readTensorAs) may be written to
        // (a merged adapter, full fine-tuning); those pages are copied on write, the file never changes.
        void *p = ::mmap(nullptr, file->m_mapSize, PROT_READ | PROT_WRITE, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            ::close(fd);
            return std::unexpected(bad(path, std::string("cannot map: ") + std::strerror(errno)));
        }
        file->m_map = static_cast<const std::byte *>(p);
    }
    ::close(fd);

    auto layout = parseSafetensorsLayout({file->m_map, file->m_mapSize}, path);
    if (!layout)
        return std::unexpected(layout.error());
    file->m_dataStart = layout->dataStart;
    file->m_tensors = std::move(layout->tensors);
    file->m_metadata = std::move(layout->metadata);
    return std::shared_ptr<const SafetensorsFile>(std::move(file));
}

SafetensorsFile::~SafetensorsFile()
{
    if (m_map)
        ::munmap(const_cast<std::byte *>(m_map), m_mapSize);
}

const TensorInfo *SafetensorsFile::find(std::string_view name) const
{
    const auto it = std::lower_bound(m_tensors.begin(), m_tensors.end(), name,
                                     [](const TensorInfo &t, std::string_view n) { return t.name < n; });
    return it != m_tensors.end() && it->name == name ? &*it : nullptr;
}

std::span<const std::byte> SafetensorsFile::bytes(const TensorInfo &info) const
{
    return {m_map + m_dataStart + info.begin, static_cast<std::size_t>(info.byteSize())};
}

void SafetensorsFile::release(const TensorInfo &info) const
{
    const auto page = static_cast<std::uintptr_t>(::sysconf(_SC_PAGESIZE));
    const auto begin = reinterpret_cast<std::uintptr_t>(m_map + m_dataStart + info.begin);
    const auto end = begin + info.byteSize();
    const auto first = (begin + page - 1) / page * page, last = end / page * page; // whole pages inside
    if (last > first)
        ::madvise(reinterpret_cast<void *>(first), last - first, MADV_DONTNEED);
}

std::string encodeSafetensorsHeader(const std::vector<TensorData> &tensors,
                                    const std::map<std::string, std::string> &metadata)
{
    return layoutFor(tensors, metadata).header;
}

void writeSafetensors(const std::filesystem::path &path, const std::vector<TensorData> &tensors,
                      const std::map<std::string, std::string> &metadata)
{
    const auto layout = layoutFor(tensors, metadata);
    AtomicFile out(path);
    out.write(layout.header);
    for (const auto *t : layout.order)
        out.write({reinterpret_cast<const char *>(t->data.data()), t->data.size()});
    out.commit();
}

} // namespace unirank::tensor
