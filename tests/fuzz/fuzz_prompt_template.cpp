// SPDX-License-Identifier: GPL-3.0-or-later
// A prompt template (unirank_prompt.json / resources/prompts): fields, labels, temperature, then bound
// to the tiny tokenizer and rendered for one query and candidate.
#include "fuzz_target.h"

#include "core/scoring/prompt_template.h"
#include "core/util/json_text.h"

#include <nlohmann/json.hpp>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    using namespace unirank;
    static const auto tokenizer = fuzz::loadTokenizerOrAbort(UNIRANK_FUZZ_TINY_TOKENIZER);
    try {
        const auto json = parseJsonText(fuzz::asText(data, size), SourceLocation{"prompt.json"});
        const auto tmpl = scoring::PromptTemplate::fromJson(json, "prompt.json");
        fuzz::requireBadInputOrValue(tmpl);
        if (!tmpl)
            return 0;
        (void)tmpl->toJson().dump();
        const scoring::BoundTemplate bound(*tmpl, tokenizer, 1, 2, 3);
        (void)bound.promptIds("a query", 0, "a candidate text", 0);
        (void)bound.promptIds("a query", 0, "", 4);
        (void)bound.promptIds("a query", 3, "a <|im_end|> candidate", 4);
    } catch (const InputError &) {
    }
    return 0;
}
