// SPDX-License-Identifier: GPL-3.0-or-later
// The safetensors header: length prefix, JSON, dtype/shape/offset validation, tiling of the data buffer.
#include "fuzz_target.h"

#include "core/tensor/safetensors.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    using namespace unirank;
    const std::span<const std::byte> bytes(reinterpret_cast<const std::byte *>(data), size);
    const auto layout = tensor::parseSafetensorsLayout(bytes, "fuzz.safetensors");
    fuzz::requireBadInputOrValue(layout);
    if (layout) {
        // Every accepted tensor lies inside the input: touch its first and last byte.
        volatile std::byte sink{};
        for (const auto &t : layout->tensors) {
            if (t.byteSize() == 0)
                continue;
            sink = bytes[layout->dataStart + t.begin];
            sink = bytes[layout->dataStart + t.end - 1];
            (void)t.numel();
        }
        (void)sink;
    }
    return 0;
}
