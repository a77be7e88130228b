// SPDX-License-Identifier: GPL-3.0-or-later
// What every fuzz target shares. A target feeds the bytes to one parser of outside data and accepts
// exactly two outcomes: success, or the parser's own "bad input" report (InputError, or a Result holding
// ErrorKind::BadInput). Anything else — another exception, a crash, a sanitizer report, a hang — is a
// bug the fuzzer reports: an exception escapes LLVMFuzzerTestOneInput and ends the process.
//
// Built two ways (tests/fuzz/CMakeLists.txt): with clang's libFuzzer (the fuzz preset), or with
// replay_main.cpp, which runs the checked-in corpus once (the `fuzz` label of every other build).
#pragma once

#include "core/text/tokenizer.h"
#include "core/util/error.h"

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

namespace unirank::fuzz {

inline std::string_view asText(const std::uint8_t *data, std::size_t size)
{
    return {reinterpret_cast<const char *>(data), size};
}

/// A Result's error must be BadInput: an Internal error from outside bytes is a bug.
template <typename R>
void requireBadInputOrValue(const R &result)
{
    if (!result && result.error().kind != ErrorKind::BadInput) {
        std::fprintf(stderr, "fuzz: a parser reported a non-input error: %s\n", result.error().message.c_str());
        std::abort();
    }
}

/// A tokenizer a target works with; a file that does not load is a broken setup, not a finding.
inline std::shared_ptr<const text::Tokenizer> loadTokenizerOrAbort(const char *path)
{
    auto loaded = text::Tokenizer::load(path);
    if (!loaded) {
        std::fprintf(stderr, "fuzz: cannot load the tokenizer: %s\n", loaded.error().message.c_str());
        std::abort();
    }
    return *loaded;
}

} // namespace unirank::fuzz

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size);
