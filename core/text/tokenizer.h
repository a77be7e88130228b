// SPDX-License-Identifier: GPL-3.0-or-later
// Hugging Face `tokenizer.json` byte-level BPE, as Qwen2/Qwen2-VL use it: added tokens (special or not)
// are split out of the raw text first; the text between them is NFC-normalised, pre-tokenised with the
// file's Split regex (PCRE2, Unicode properties), mapped to byte-level symbols and merged by rank.
// Both merge encodings ("a b" strings and ["a", "b"] pairs) are read. No BOS/EOS is added.
//
// Threading: a loaded Tokenizer is immutable and thread-safe (the BPE word cache has its own lock).
// Errors: load() returns BadInput naming the file and field; encode() throws InputError for text that
// is not UTF-8.
#pragma once

#include "core/util/error.h"

#include <cstdint>
#include <filesystem>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <vector>

namespace unirank::text {

/// A piece of a prompt. Trusted text (a template's own markup) has its special tokens (`<|im_end|>`,
/// `<|image_pad|>`, ...) split out as control tokens. Outside text (a query, a candidate) keeps them
/// as the plain characters they are, so no input can inject a control token; non-special added tokens
/// are vocabulary entries and are split out in both (as transformers does).
struct TextSegment {
    std::string_view text;
    bool trusted = true;
};

struct SegmentEncoding {
    std::vector<std::int32_t> ids;
    /// Per segment: how many leading tokens end at or before that segment's first character. A token
    /// that BPE merged across the boundary (" The" from "...: " + "The") is not counted.
    std::vector<std::size_t> tokensBefore;
};

class Tokenizer {
public:
    static Result<std::shared_ptr<const Tokenizer>> load(const std::filesystem::path &tokenizerJson);
    /// Parses the JSON text; `source` names it in errors.
    static Result<std::shared_ptr<const Tokenizer>> fromJson(std::string_view json, const std::string &source);
    ~Tokenizer();
    Tokenizer(const Tokenizer &) = delete;
    Tokenizer &operator=(const Tokenizer &) = delete;

    /// The whole text as one trusted segment: every added token is split out.
    std::vector<std::int32_t> encode(std::string_view text) const;
    /// The segments tokenized as one string, the way transformers tokenizes a whole prompt: the text
    /// between two control tokens is pre-tokenized and merged in one piece, across segment boundaries.
    /// NFC applies per segment (a segment that starts with a combining mark does not compose with the
    /// one before).
    SegmentEncoding encodeSegments(std::span<const TextSegment> segments) const;
    /// The longest start of `text` (NFC) that encodes, as outside text, to at most `maxTokens` tokens,
    /// cut at a character boundary.
    std::string truncateToTokens(std::string_view text, std::size_t maxTokens) const;
    /// Byte-level decoding; invalid UTF-8 becomes U+FFFD. Special tokens are kept unless skipped.
    std::string decode(std::span<const std::int32_t> ids, bool skipSpecial = false) const;
    /// The token's string as stored (byte-level symbols for BPE tokens), or nullopt for an unknown id.
    std::optional<std::string> tokenString(std::int32_t id) const;
    /// Id of a vocabulary or added token given as stored (e.g. "yes", "Ġyes", "<|im_end|>").
    std::optional<std::int32_t> tokenId(std::string_view token) const;
    /// Id of `text` when it encodes to exactly one token.
    std::optional<std::int32_t> singleTokenId(std::string_view text) const;
    std::int32_t size() const; ///< one past the largest id

private:
    struct Impl;
    explicit Tokenizer(std::unique_ptr<Impl> impl);
    std::unique_ptr<Impl> m_impl;
};

} // namespace unirank::text
