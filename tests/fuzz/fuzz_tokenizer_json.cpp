// SPDX-License-Identifier: GPL-3.0-or-later
// tokenizer.json: the BPE model, merges, added tokens, pre-tokenizer regex; then one encode/decode with
// whatever was accepted.
#include "fuzz_target.h"

#include "core/text/tokenizer.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    using namespace unirank;
    const auto tokenizer = text::Tokenizer::fromJson(fuzz::asText(data, size), "tokenizer.json");
    fuzz::requireBadInputOrValue(tokenizer);
    if (!tokenizer)
        return 0;
    try {
        const auto ids = (*tokenizer)->encode("A query, 2 images <|im_start|> and ünïcödé text.");
        (void)(*tokenizer)->decode(ids);
        (void)(*tokenizer)->size();
    } catch (const InputError &) {
    }
    return 0;
}
