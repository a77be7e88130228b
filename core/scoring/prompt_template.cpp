// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/scoring/prompt_template.h"

#include "core/text/chat_prompt.h"
#include "core/util/atomic_file.h"
#include "core/util/json_text.h"

#include <algorithm>
#include <array>

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
        if (const auto sys = j.find("system"); sys != j.end() && sys->is_null()) {
            t.hasSystem = false;
            t.system.clear();
        } else {
            str("system", t.system);
        }
        str("assistant", t.assistant);
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
    nlohmann::json j{{"name", name},
            {"system", hasSystem ? nlohmann::json(system) : nlohmann::json(nullptr)},
            {"instruction", instruction},
            {"user", user},
            {"labels", {{"positive", positiveLabel}, {"negative", negativeLabel}}},
            {"temperature", temperature},
            {"max_candidate_tokens", maxCandidateTokens}};
    if (!assistant.empty())
        j["assistant"] = assistant;
    return j;
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
    m_head = (m_template.hasSystem ? "<|im_start|>system\n" + m_template.system + "<|im_end|>\n" : std::string()) +
             "<|im_start|>user\n";
    m_before = user.substr(0, at);
    m_after = user.substr(at + kCandidate.size()) + "<|im_end|>\n<|im_start|>assistant\n" + m_template.assistant;
}

BoundTemplate::PromptIds BoundTemplate::promptIds(const std::string &query, std::int64_t queryImageTokens,
                                                  const std::string &candidateText, std::int64_t imageTokens) const
{
    if (candidateText.empty() && imageTokens <= 0)
        throw InputError("the candidate has neither text nor an image");
    static const std::string kVision = "<|vision_start|><|image_pad|><|vision_end|>";
    PromptIds out;
    std::string kept = candidateText;
    if (!kept.empty()) {
        const auto max = static_cast<std::size_t>(m_template.maxCandidateTokens);
        const auto alone = m_tokenizer->encodeSegments(std::array{text::TextSegment{kept, false}});
        out.textTokens = static_cast<std::int64_t>(alone.ids.size());
        if (alone.ids.size() > max) {
            kept = m_tokenizer->truncateToTokens(kept, max);
            out.truncated = true;
            out.textTokens = static_cast<std::int64_t>(m_tokenizer->encodeSegments(std::array{text::TextSegment{kept, false}}).ids.size());
        }
    }
    // Segments in prompt order; {query} may appear on either side of {candidate}, even several times.
    std::vector<text::TextSegment> segments;
    std::vector<std::int64_t> imageTokensInOrder;
    const auto addTemplate = [&](std::string_view part) {
        for (std::size_t pos = 0;;) {
            const auto at = part.find("{query}", pos);
            segments.push_back({part.substr(pos, at == std::string_view::npos ? std::string_view::npos : at - pos), true});
            if (at == std::string_view::npos)
                return;
            if (queryImageTokens > 0) {
                segments.push_back({kVision, true});
                imageTokensInOrder.push_back(queryImageTokens);
            }
            segments.push_back({query, false});
            pos = at + 7;
        }
    };
    segments.push_back({m_head, true});
    addTemplate(m_before);
    const auto candidateSegment = segments.size();
    const bool queryBefore = !imageTokensInOrder.empty();
    if (imageTokens > 0) {
        segments.push_back({kVision, true});
        imageTokensInOrder.push_back(imageTokens);
    }
    segments.push_back({kept, false});
    const auto querySegment = candidateFirst() ? segments.size() + 1 : 0; // after the template text that follows
    addTemplate(m_after);
    if (queryImageTokens > 0 && imageTokensInOrder.size() != (imageTokens > 0 ? 2u : 1u))
        throw InputError("prompt template '" + m_template.name + "': an image query needs {query} exactly once in 'user'");
    out.queryImageFirst = queryBefore || imageTokens <= 0;
    const auto enc = m_tokenizer->encodeSegments(segments);
    // Expand each image's single pad; the shared-prefix bound moves with the pads before it.
    out.ids.reserve(enc.ids.size() + static_cast<std::size_t>(std::max<std::int64_t>(0, queryImageTokens + imageTokens)));
    std::size_t image = 0;
    out.candidateStart = enc.tokensBefore[candidateSegment];
    std::size_t start = out.candidateStart;
    const std::size_t queryTokens = querySegment ? enc.tokensBefore[querySegment] : 0;
    std::size_t queryStart = queryTokens;
    for (std::size_t i = 0; i < enc.ids.size(); ++i) {
        if (enc.ids[i] != m_imagePad) {
            out.ids.push_back(enc.ids[i]);
            continue;
        }
        if (image >= imageTokensInOrder.size())
            throw InputError("prompt template '" + m_template.name + "': the template text holds an <|image_pad|>");
        const auto n = static_cast<std::size_t>(imageTokensInOrder[image++]);
        out.ids.insert(out.ids.end(), n, m_imagePad);
        if (i < out.candidateStart)
            start += n - 1;
        if (i < queryTokens)
            queryStart += n - 1;
    }
    if (image != imageTokensInOrder.size())
        throw InputError("prompt template '" + m_template.name + "': an image block lost its <|image_pad|>");
    out.candidateStart = start;
    out.queryStart = queryStart;
    out.headLength = enc.tokensBefore[2]; // segments 0 and 1: the head and the user text before a variable
    return out;
}

bool BoundTemplate::candidateFirst() const
{
    return m_before.find("{query}") == std::string::npos && m_after.find("{query}") != std::string::npos;
}

} // namespace unirank::scoring
