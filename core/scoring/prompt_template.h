// SPDX-License-Identifier: GPL-3.0-or-later
// The reranking prompt as data. A template is a JSON file (`unirank_prompt.json` in the model or adapter
// folder) or the built-in default:
//
//   {"system": "...", "instruction": "...",
//    "user": "<Instruct>: {instruction}\n<Query>: {query}\n<Document>: {candidate}",
//    "labels": {"positive": "yes", "negative": "no"}, "temperature": 1.0,
//    "max_candidate_tokens": 512}
//
// The prompt is the Qwen2-VL chat layout: a system turn, one user turn rendered from `user`, then the
// generation prompt; the model's answer token decides. `{candidate}` becomes the image placeholder (for
// an image) followed by the candidate's text. Everything before `{candidate}` is the query prefix,
// shared by all candidates of a query (the KV cache reuses it); `{query}` may also come after
// `{candidate}`, as in MonoQwen2-VL's prompt, which then shares a shorter prefix.
//
// Tokenisation is per segment (prefix, candidate text, rest), so the cached and uncached paths see
// exactly the same ids. Errors: InputError naming the file and field; label strings must each be one
// token of the tokenizer.
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

    /// Ids shared by every candidate of `query` (system turn, user head, text before {candidate}).
    /// `queryImageTokens` > 0 puts the query's image block before its text; that needs {query} before
    /// {candidate} (InputError otherwise).
    std::vector<std::int32_t> prefixIds(const std::string &query, std::int64_t queryImageTokens = 0) const;
    struct CandidateIds {
        std::vector<std::int32_t> ids; ///< candidate + rest of the prompt + generation prompt
        bool truncated = false;        ///< the candidate text was cut to maxCandidateTokens
        std::int64_t textTokens = 0;   ///< candidate text tokens kept
    };
    /// `imageTokens` > 0 inserts the vision block with that many <|image_pad|>. Throws InputError for a
    /// candidate with neither text nor image.
    CandidateIds candidateIds(const std::string &query, const std::string &candidateText, std::int64_t imageTokens) const;

private:
    PromptTemplate m_template;
    std::shared_ptr<const text::Tokenizer> m_tokenizer;
    std::int32_t m_imagePad, m_visionStart, m_visionEnd;
    std::int32_t m_positive = -1, m_negative = -1;
    std::string m_head, m_before, m_after; ///< rendered around {candidate}, {query} still unexpanded
};

} // namespace unirank::scoring
