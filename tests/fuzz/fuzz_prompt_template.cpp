// SPDX-License-Identifier: GPL-3.0-or-later
// A prompt template (unirank_prompt.json / resources/prompts): fields, labels, temperature, then bound
// to the tiny tokenizer and rendered for one query and candidate.
#include "fuzz_target.h"

#include "core/scoring/prompt_template.h"
#include "core/util/json_text.h"

#include <nlohmann/json.hpp>

namespace {
std::shared_ptr<const unirank::text::Tokenizer> g_tokenizer;
}

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    auto loaded = unirank::text::Tokenizer::load(UNIRANK_FUZZ_TINY_TOKENIZER);
    if (!loaded) {
        std::fprintf(stderr, "fuzz_prompt_template: %s\n", loaded.error().message.c_str());
        std::abort();
    }
    g_tokenizer = *loaded;
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    using namespace unirank;
    try {
        const auto json = parseJsonText(fuzz::asText(data, size), SourceLocation{"prompt.json"});
        const auto tmpl = scoring::PromptTemplate::fromJson(json, "prompt.json");
        fuzz::requireBadInputOrValue(tmpl);
        if (!tmpl)
            return 0;
        (void)tmpl->toJson().dump();
        const scoring::BoundTemplate bound(*tmpl, g_tokenizer, 1, 2, 3);
        (void)bound.prefixIds("a query", 0);
        (void)bound.candidateIds("a query", "a candidate text", 0);
        (void)bound.candidateIds("a query", "", 4);
    } catch (const InputError &) {
    }
    return 0;
}
