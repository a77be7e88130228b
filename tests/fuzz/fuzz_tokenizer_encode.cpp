// SPDX-License-Identifier: GPL-3.0-or-later
// Text from datasets through the real Qwen2-VL tokenizer: any bytes (invalid UTF-8 is an InputError),
// then decode back; valid UTF-8 without special-token text must round-trip to its NFC form (Qwen2's
// tokenizer normalises to NFC).
#include "fuzz_target.h"

#include "core/text/tokenizer.h"
#include "core/text/unicode.h"
#include "core/util/utf8.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    using namespace unirank;
    static const auto tokenizer = fuzz::loadTokenizerOrAbort(UNIRANK_FUZZ_TOKENIZER);
    const auto text = fuzz::asText(data, size);
    std::vector<std::int32_t> ids;
    try {
        ids = tokenizer->encode(text);
    } catch (const InputError &) {
        if (!findInvalidUtf8(text))
            std::abort(); // valid UTF-8 must always encode
        return 0;
    }
    const auto back = tokenizer->decode(ids);
    if (text.find("<|") == std::string_view::npos && back != unirank::text::toNfc(text)) {
        std::fprintf(stderr, "fuzz_tokenizer_encode: decode(encode(x)) != x\n");
        std::abort();
    }
    return 0;
}
