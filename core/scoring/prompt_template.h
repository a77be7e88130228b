// SPDX-License-Identifier: GPL-3.0-or-later
// The reranking prompt as data. A template is a JSON file (`unirank_prompt.json` in the model or adapter
// folder) or the built-in default:
//
//   {"system": "...", "instruction": "...",
//    "user": "<Instruct>: {instruction}\n<Query>: {query}\n<Document>: {candidate}",
//    "labels": {"positive": "yes", "negative": "no"}, "temperature": 1.0,
//    "max_candidate_tokens": 512}
//
// The prompt is the Qwen2-VL chat layout: a system turn (none when "system" is null), one user turn
// rendered from `user`, then the generation prompt `<|im_start|>assistant\n` followed by `assistant`
// (text a checkpoint expects after the assistant header, e.g. an empty think block); the model's next
// token decides. `{candidate}` becomes the image block (for an image) followed by the candidate's
// text; `{query}` likewise (an image query's block, then its text), before or after `{candidate}`.
//
// Tokenisation is the whole prompt string at once, exactly as transformers' processor tokenizes it
// (its text between control tokens pre-tokenized in one piece, so the space before a candidate merges
// into the candidate's first word), with one deliberate difference: special-token strings inside the
// query or candidate text (`<|im_end|>`, `<|image_pad|>`, ...) stay plain characters and can never
// inject a control token (transformers would split them out). See text::TextSegment.
// Errors: InputError naming the file and field; label strings must each be one token of the tokenizer.
#pragma once

#include "core/text/tokenizer.h"
#include "core/util/error.h"

#include <nlohmann/json_fwd.hpp>

#include <cstdint>
#include <filesystem>
#include <string>
#include <vector>

namespace unirank::scoring {

struct PromptTemplate {
    std::string name = "unirank-default";
    std::string system;
    std::string instruction;
    std::string user;
    std::string assistant;     ///< after `<|im_start|>assistant\n`
    bool hasSystem = true;     ///< false: no system turn (\"system\": null)
    std::string positiveLabel = "yes";
    std::string negativeLabel = "no";
    double temperature = 1.0;           ///< calibration: P = sigmoid(margin / temperature)
    std::int64_t maxCandidateTokens = 512; ///< longer candidate texts are cut to their first tokens

    static PromptTemplate builtIn();
    static Result<PromptTemplate> fromJson(const nlohmann::json &json, const std::string &source);
    static Result<PromptTemplate> load(const std::filesystem::path &file);
    /// `folder`/unirank_prompt.json when present, else the built-in default.
    static Result<PromptTemplate> forModelFolder(const std::filesystem::path &folder);
    nlohmann::json toJson() const;
};

/// A template bound to a tokenizer: the fixed token segments and label ids.
class BoundTemplate {
public:
    /// Throws InputError when a label is not a single token or `{candidate}` is missing.
    BoundTemplate(PromptTemplate tmpl, std::shared_ptr<const text::Tokenizer> tokenizer, std::int32_t imagePadId,
                  std::int32_t visionStartId, std::int32_t visionEndId);

    const PromptTemplate &prompt() const { return m_template; }
    std::int32_t positiveId() const { return m_positive; }
    std::int32_t negativeId() const { return m_negative; }
    std::int32_t imagePadId() const { return m_imagePad; }
    /// The query comes only after the candidate (MonoQwen2-VL's layout): the prompt up to the query
    /// depends on the candidate alone, so its keys and values can be cached per candidate.
    bool candidateFirst() const;

    struct PromptIds {
        std::vector<std::int32_t> ids; ///< the whole prompt, each image's <|image_pad|> repeated to its tokens
        /// Leading ids that end before the candidate's first character: no candidate-dependent token can
        /// come earlier, so a prefix shared by several candidates is at most this long.
        std::size_t candidateStart = 0;
        /// Candidate-first templates: leading ids that end before the query's first token (its image
        /// block or text), i.e. system + candidate, which no query can change. 0 otherwise.
        std::size_t queryStart = 0;
        /// Leading ids of template text alone (system turn and user-turn text before the first {query}
        /// or {candidate}), which no query or candidate can change: one computation serves every pair.
        std::size_t headLength = 0;
        bool queryImageFirst = true;   ///< with two images: the query's comes first in `ids`
        bool truncated = false;        ///< the candidate text was cut to maxCandidateTokens
        std::int64_t textTokens = 0;   ///< tokens of the candidate text (as kept) when encoded alone
    };
    /// The prompt of one (query, candidate) pair. `queryImageTokens` / `imageTokens` > 0 insert the
    /// query's / candidate's image block with that many <|image_pad|>. Throws InputError for a candidate
    /// with neither text nor image, or text that is not UTF-8.
    PromptIds promptIds(const std::string &query, std::int64_t queryImageTokens, const std::string &candidateText,
                        std::int64_t imageTokens) const;

private:
    PromptTemplate m_template;
    std::shared_ptr<const text::Tokenizer> m_tokenizer;
    std::int32_t m_imagePad, m_visionStart, m_visionEnd;
    std::int32_t m_positive = -1, m_negative = -1;
    std::string m_head, m_before, m_after; ///< rendered around {candidate}, {query} still unexpanded
};

} // namespace unirank::scoring
