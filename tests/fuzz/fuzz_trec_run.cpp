// SPDX-License-Identifier: GPL-3.0-or-later
// A TREC run (qid Q0 docid rank score tag), as imported with a dataset or compared in Evaluate.
#include "fuzz_target.h"

#include "core/formats/trec.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    try {
        (void)unirank::parseRun(unirank::fuzz::asText(data, size), "run.trec");
    } catch (const unirank::InputError &) {
    }
    return 0;
}
