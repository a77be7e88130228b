// SPDX-License-Identifier: GPL-3.0-or-later
// Relevance judgements: BEIR qrels.tsv or TREC qrels (first line decides).
#include "fuzz_target.h"

#include "core/formats/trec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    try {
        (void)unirank::parseQrels(unirank::fuzz::asText(data, size), "qrels.tsv");
    } catch (const unirank::InputError &) {
    }
    return 0;
}
