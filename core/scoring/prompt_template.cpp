// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/scoring/prompt_template.h"

#include "core/text/chat_prompt.h"
#include "core/util/atomic_file.h"
#include "core/util/json_text.h"

#include <algorithm>

#include <nlohmann/json.hpp>

namespace unirank::scoring {
namespace {

void replaceAll(std::string &s, std::string_view from, const std::string &to)
{
    for (std::size_t pos = 0; (pos = s.find(from, pos)) != std::string::npos; pos += to.size())
        s.replace(pos, from.size(), to);
}

constexpr std::string_view kCandidate = "{candidate}";

} // namespace

PromptTemplate PromptTemplate::builtIn()
{
    PromptTemplate t;
    t.system = "Judge whether the Document meets the requirements based on the Query and the Instruct provided. "
               "Note that the answer can only be \"yes\" or \"no\".";
    t.instruction = "Given a search query, judge whether the document (a text passage or an image) is relevant to it";
    t.user = "<Instruct>: {instruction}\n<Query>: {query}\n<Document>: {candidate}";
    return t;
}

Result<PromptTemplate> PromptTemplate::fromJson(const nlohmann::json &j, const std::string &source)
{
    try {
        if (!j.is_object())
            throw InputError({source, 0, ""}, "not a JSON object");
        auto t = builtIn();
        const auto str = [&](const char *key, std::string &target) {
            const auto it = j.find(key);
            if (it == j.end())
                return;
            if (!it->is_string())
                throw InputError({source, 0, key}, "must be a string");
            target = it->get<std::string>();
        };
        str("name", t.name);
        str("system", t.system);
        str("instruction", t.instruction);
        str("user", t.user);
        if (const auto labels = j.find("labels"); labels != j.end()) {
            if (!labels->is_object() || !labels->contains("positive") || !labels->contains("negative") ||
                !(*labels)["positive"].is_string() || !(*labels)["negative"].is_string())
                throw InputError({source, 0, "labels"}, "must be {\"positive\": \"...\", \"negative\": \"...\"}");
            t.positiveLabel = (*labels)["positive"].get<std::string>();
            t.negativeLabel = (*labels)["negative"].get<std::string>();
        }
        if (const auto temp = j.find("temperature"); temp != j.end()) {
            if (!temp->is_number() || temp->get<double>() <= 0)
                throw InputError({source, 0, "temperature"}, "must be a positive number");
            t.temperature = temp->get<double>();
        }
        if (const auto m = j.find("max_candidate_tokens"); m != j.end()) {
            if (!m->is_number_integer() || m->get<std::int64_t>() < 1)
                throw InputError({source, 0, "max_candidate_tokens"}, "must be a positive integer");
            t.maxCandidateTokens = m->get<std::int64_t>();
        }
        if (t.user.find(kCandidate) == std::string::npos || t.user.find(kCandidate) != t.user.rfind(kCandidate))
            throw InputError({source, 0, "user"}, "must contain {candidate} exactly once");
        if (t.positiveLabel == t.negativeLabel)
            throw InputError({source, 0, "labels"}, "positive and negative must differ");
        return t;
    } catch (const InputError &e) {
        return std::unexpected(Error{ErrorKind::BadInput, e.what()});
    } catch (const nlohmann::json::exception &e) {
        return std::unexpected(Error{ErrorKind::BadInput, source + ": a field has the wrong type: " + e.what()});
    }
}

Result<PromptTemplate> PromptTemplate::load(const std::filesystem::path &file)
{
    try {
        return fromJson(readJsonFile(file), file.string());
    } catch (const InputError &e) {
        return std::unexpected(Error{ErrorKind::BadInput, e.what()});
    }
}

Result<PromptTemplate> PromptTemplate::forModelFolder(const std::filesystem::path &folder)
{
    const auto file = folder / "unirank_prompt.json";
    std::error_code ec;
    if (std::filesystem::exists(file, ec))
        return load(file);
    return builtIn();
}

nlohmann::json PromptTemplate::toJson() const
{
    return {{"name", name},
            {"system", system},
            {"instruction", instruction},
            {"user", user},
            {"labels", {{"positive", positiveLabel}, {"negative", negativeLabel}}},
            {"temperature", temperature},
            {"max_candidate_tokens", maxCandidateTokens}};
}

BoundTemplate::BoundTemplate(PromptTemplate tmpl, std::shared_ptr<const text::Tokenizer> tokenizer,
                             std::int32_t imagePadId, std::int32_t visionStartId, std::int32_t visionEndId)
    : m_template(std::move(tmpl)), m_tokenizer(std::move(tokenizer)), m_imagePad(imagePadId),
      m_visionStart(visionStartId), m_visionEnd(visionEndId)
{
    const auto label = [&](const std::string &text, const char *which) {
        const auto id = m_tokenizer->singleTokenId(text);
        if (!id)
            throw InputError("prompt template '" + m_template.name + "': the " + which + " label '" + text +
                             "' is not a single token of this tokenizer");
        return *id;
    };
    m_positive = label(m_template.positiveLabel, "positive");
    m_negative = label(m_template.negativeLabel, "negative");
    auto user = m_template.user;
    replaceAll(user, "{instruction}", m_template.instruction);
    const auto at = user.find(kCandidate);
    if (at == std::string::npos)
        throw InputError("prompt template '" + m_template.name + "': 'user' has no {candidate}");
    m_head = "<|im_start|>system\n" + m_template.system + "<|im_end|>\n<|im_start|>user\n";
    m_before = user.substr(0, at);
    m_after = user.substr(at + kCandidate.size()) + "<|im_end|>\n<|im_start|>assistant\n";
}

std::vector<std::int32_t> BoundTemplate::prefixIds(const std::string &query, std::int64_t queryImageTokens) const
{
    auto before = m_before;
    if (queryImageTokens > 0) {
        if (before.find("{query}") == std::string::npos)
            throw InputError("prompt template '" + m_template.name +
                             "': an image query needs {query} before {candidate} in 'user'");
        replaceAll(before, "{query}", "<|vision_start|><|image_pad|><|vision_end|>" + query);
        const auto ids = m_tokenizer->encode(m_head + before);
        if (std::count(ids.begin(), ids.end(), m_imagePad) != 1)
            throw InputError("prompt template '" + m_template.name + "': the query prefix must hold exactly one image");
        const std::vector<std::int64_t> counts{queryImageTokens};
        return text::expandImagePads(ids, m_imagePad, counts);
    }
    replaceAll(before, "{query}", query);
    return m_tokenizer->encode(m_head + before);
}

BoundTemplate::CandidateIds BoundTemplate::candidateIds(const std::string &query, const std::string &candidateText,
                                                        std::int64_t imageTokens) const
{
    if (candidateText.empty() && imageTokens <= 0)
        throw InputError("the candidate has neither text nor an image");
    CandidateIds out;
    if (imageTokens > 0) {
        out.ids.push_back(m_visionStart);
        out.ids.insert(out.ids.end(), static_cast<std::size_t>(imageTokens), m_imagePad);
        out.ids.push_back(m_visionEnd);
    }
    if (!candidateText.empty()) {
        auto textIds = m_tokenizer->encode(candidateText);
        if (static_cast<std::int64_t>(textIds.size()) > m_template.maxCandidateTokens) {
            textIds.resize(static_cast<std::size_t>(m_template.maxCandidateTokens));
            out.truncated = true;
        }
        out.textTokens = static_cast<std::int64_t>(textIds.size());
        out.ids.insert(out.ids.end(), textIds.begin(), textIds.end());
    }
    auto after = m_after;
    replaceAll(after, "{query}", query);
    const auto rest = m_tokenizer->encode(after);
    out.ids.insert(out.ids.end(), rest.begin(), rest.end());
    return out;
}

} // namespace unirank::scoring
