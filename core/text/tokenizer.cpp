// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/text/tokenizer.h"

#include "core/text/unicode.h"
#include "core/util/atomic_file.h"
#include "core/util/json_text.h"
#include "core/util/utf8.h"

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>

#include <nlohmann/json.hpp>

#include <algorithm>
#include <array>
#include <limits>
#include <mutex>
#include <unordered_map>

namespace unirank::text {
namespace {

using nlohmann::json;

/// GPT-2's byte <-> printable code point map: printable Latin-1 bytes map to themselves, the other 68
/// bytes, in increasing order, to U+0100 + n.
struct ByteMap {
    std::array<std::string, 256> symbol;        // byte -> UTF-8 of its code point
    std::unordered_map<char32_t, unsigned char> byteOf;

    ByteMap()
    {
        int n = 0;
        for (int b = 0; b < 256; ++b) {
            const bool keep = (b >= 33 && b <= 126) || (b >= 161 && b <= 172) || (b >= 174 && b <= 255);
            const char32_t cp = keep ? static_cast<char32_t>(b) : static_cast<char32_t>(256 + n++);
            appendUtf8(symbol[static_cast<std::size_t>(b)], cp);
            byteOf[cp] = static_cast<unsigned char>(b);
        }
    }
};

const ByteMap &byteMap()
{
    static const ByteMap map;
    return map;
}

struct AddedToken {
    std::string content;
    std::int32_t id = 0;
    bool special = false;
    bool lstrip = false;
    bool rstrip = false;
};

bool isSpace(char c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v';
}

/// Ids index dense tables: a larger one is no real vocabulary (Qwen2-VL: 151,657), only a memory bomb.
constexpr std::int64_t kMaxTokenId = (1 << 24) - 1;

} // namespace

struct Tokenizer::Impl {
    std::string source;
    std::unordered_map<std::string, std::int32_t> vocab;
    std::vector<std::string> idToToken;
    std::unordered_map<std::string, int> mergeRank; // "a b" -> rank
    std::vector<AddedToken> added;                  // longest first
    std::vector<bool> isSpecial;
    std::vector<bool> isAdded;
    std::vector<std::uint32_t> tokenBytes; // bytes of text each id stands for
    bool nfc = false;
    pcre2_code *regex = nullptr;
    mutable std::mutex cacheLock;
    mutable std::unordered_map<std::string, std::vector<std::int32_t>> cache;

    ~Impl()
    {
        if (regex)
            pcre2_code_free(regex);
    }

    void bpe(const std::string &word, std::vector<std::int32_t> &out) const
    {
        {
            std::lock_guard lock(cacheLock);
            const auto it = cache.find(word);
            if (it != cache.end()) {
                out.insert(out.end(), it->second.begin(), it->second.end());
                return;
            }
        }
        const auto &bytes = byteMap();
        std::vector<std::string> parts;
        for (const unsigned char c : word)
            parts.push_back(bytes.symbol[c]);
        std::string key;
        while (parts.size() > 1) {
            int best = std::numeric_limits<int>::max();
            std::size_t at = 0;
            for (std::size_t i = 0; i + 1 < parts.size(); ++i) {
                key.assign(parts[i]).append(" ").append(parts[i + 1]);
                const auto it = mergeRank.find(key);
                if (it != mergeRank.end() && it->second < best) {
                    best = it->second;
                    at = i;
                }
            }
            if (best == std::numeric_limits<int>::max())
                break;
            // Merge every occurrence of that pair, left to right.
            const std::string first = parts[at], second = parts[at + 1];
            std::vector<std::string> merged;
            merged.reserve(parts.size());
            for (std::size_t i = 0; i < parts.size();) {
                if (i + 1 < parts.size() && parts[i] == first && parts[i + 1] == second) {
                    merged.push_back(first + second);
                    i += 2;
                } else {
                    merged.push_back(std::move(parts[i]));
                    ++i;
                }
            }
            parts = std::move(merged);
        }
        std::vector<std::int32_t> ids;
        for (const auto &p : parts) {
            const auto it = vocab.find(p);
            if (it == vocab.end())
                throw InputError(source + ": BPE produced '" + p + "', which is not in the vocabulary");
            ids.push_back(it->second);
        }
        out.insert(out.end(), ids.begin(), ids.end());
        std::lock_guard lock(cacheLock);
        if (cache.size() > 100000)
            cache.clear();
        cache.emplace(word, std::move(ids));
    }

    /// BPE of already-normalised text; when `ends` is given, each token's end (byte offset in the
    /// normalised text, plus `base`) is appended to it.
    void encodeNormalized(const std::string &text, std::vector<std::int32_t> &out, std::vector<std::size_t> *ends,
                          std::size_t base) const
    {
        if (text.empty())
            return;
        const auto first = out.size();
        encodePieces(text, out);
        if (!ends)
            return;
        std::size_t at = base;
        for (auto i = first; i < out.size(); ++i) {
            at += tokenBytes[static_cast<std::size_t>(out[i])];
            ends->push_back(at);
        }
    }

    void encodePlain(std::string_view raw, std::vector<std::int32_t> &out) const
    {
        if (raw.empty())
            return;
        encodePieces(nfc ? toNfc(raw) : std::string(raw), out);
    }

    void encodePieces(const std::string &text, std::vector<std::int32_t> &out) const
    {
        // Owned: bpe() throws for a vocabulary that lacks a merged piece.
        const std::unique_ptr<pcre2_match_data, decltype(&pcre2_match_data_free)> md(
            pcre2_match_data_create_from_pattern(regex, nullptr), &pcre2_match_data_free);
        if (!md)
            throw std::bad_alloc();
        std::size_t offset = 0;
        const auto *subject = reinterpret_cast<PCRE2_SPTR>(text.data());
        while (offset < text.size()) {
            // The text was validated once; without NO_UTF_CHECK every call would re-check the whole rest.
            const int rc = pcre2_match(regex, subject, text.size(), offset, PCRE2_NO_UTF_CHECK, md.get(), nullptr);
            if (rc < 0) { // no more matches: the rest is one piece
                bpe(text.substr(offset), out);
                break;
            }
            const auto *ov = pcre2_get_ovector_pointer(md.get());
            if (ov[0] > offset)
                bpe(text.substr(offset, ov[0] - offset), out);
            if (ov[1] == ov[0]) { // empty match: step one code point
                std::size_t next = ov[0];
                nextCodepoint(text, next);
                bpe(text.substr(ov[0], next - ov[0]), out);
                offset = next;
                continue;
            }
            bpe(text.substr(ov[0], ov[1] - ov[0]), out);
            offset = ov[1];
        }
    }

    /// The added token that starts at `pos`, longest first; outside text recognises only non-special ones.
    const AddedToken *addedAt(std::string_view text, std::size_t pos, bool trusted) const
    {
        for (const auto &a : added)
            if (!a.content.empty() && (trusted || !a.special) && text.compare(pos, a.content.size(), a.content) == 0)
                return &a;
        return nullptr;
    }

    SegmentEncoding encodeSegments(std::span<const TextSegment> segments, std::vector<std::size_t> *endsOut,
                                   std::string *normalizedOut) const
    {
        SegmentEncoding enc;
        std::vector<std::size_t> ends;
        std::vector<std::size_t> starts;
        std::string all; // the normalised text of every segment, added tokens included
        std::string run; // plain text since the last added token, normalised
        std::size_t runStart = 0;
        const auto flush = [&] {
            encodeNormalized(run, enc.ids, &ends, runStart);
            run.clear();
            runStart = all.size();
        };
        for (const auto &seg : segments) {
            const auto text = seg.text;
            if (const auto bad = findInvalidUtf8(text))
                throw InputError("text is not valid UTF-8 (byte " + std::to_string(*bad) + ")");
            starts.push_back(all.size());
            std::size_t start = 0, pos = 0;
            const auto plain = [&](std::size_t from, std::size_t to) {
                if (to <= from)
                    return;
                const auto piece = text.substr(from, to - from);
                const auto normalized = nfc ? toNfc(piece) : std::string(piece);
                run += normalized;
                all += normalized;
            };
            while (pos < text.size()) {
                const auto *hit = addedAt(text, pos, seg.trusted);
                if (!hit) {
                    ++pos;
                    continue;
                }
                plain(start, pos);
                if (hit->lstrip) // the whitespace before it belongs to no token
                    while (!run.empty() && isSpace(run.back()))
                        run.pop_back();
                flush();
                all += hit->content;
                enc.ids.push_back(hit->id);
                ends.push_back(all.size());
                pos += hit->content.size();
                if (hit->rstrip)
                    while (pos < text.size() && isSpace(text[pos]))
                        all += text[pos++];
                runStart = all.size();
                start = pos;
            }
            plain(start, text.size());
        }
        flush();
        enc.tokensBefore.reserve(starts.size());
        for (const auto s : starts)
            enc.tokensBefore.push_back(static_cast<std::size_t>(std::upper_bound(ends.begin(), ends.end(), s) - ends.begin()));
        if (endsOut)
            *endsOut = std::move(ends);
        if (normalizedOut)
            *normalizedOut = std::move(all);
        return enc;
    }
};

Tokenizer::Tokenizer(std::unique_ptr<Impl> impl) : m_impl(std::move(impl)) {}
Tokenizer::~Tokenizer() = default;

Result<std::shared_ptr<const Tokenizer>> Tokenizer::load(const std::filesystem::path &tokenizerJson)
{
    std::string text;
    try {
        text = readWholeFile(tokenizerJson);
    } catch (const InputError &e) {
        return std::unexpected(Error{ErrorKind::BadInput, e.what()});
    }
    return fromJson(text, tokenizerJson.string());
}

Result<std::shared_ptr<const Tokenizer>> Tokenizer::fromJson(std::string_view text, const std::string &source)
{
    const auto fail = [&](const std::string &field, const std::string &what) {
        return std::unexpected(Error{ErrorKind::BadInput, SourceLocation{source, 0, field}.describe() + what});
    };
    json j;
    try {
        j = parseJsonText(text, SourceLocation{source});
    } catch (const InputError &e) {
        return std::unexpected(Error{ErrorKind::BadInput, e.what()});
    }
    auto impl = std::make_unique<Impl>();
    impl->source = source;
    try {
        const auto &model = j.at("model");
        if (model.value("type", std::string("BPE")) != "BPE")
            return fail("model.type", "only BPE models are supported");
        if (model.contains("byte_fallback") && model["byte_fallback"].is_boolean() && model["byte_fallback"].get<bool>())
            return fail("model.byte_fallback", "byte_fallback BPE is not supported");
        std::int32_t maxId = -1;
        const auto tokenIdOf = [&](const json &id, const char *field) {
            return static_cast<std::int32_t>(integerIn(id, SourceLocation{source, 0, field}, 0, kMaxTokenId));
        };
        for (const auto &[token, id] : model.at("vocab").items()) {
            const auto value = tokenIdOf(id, "model.vocab");
            impl->vocab.emplace(token, value);
            maxId = std::max(maxId, value);
        }
        int rank = 0;
        for (const auto &m : model.at("merges")) {
            std::string key;
            if (m.is_string()) {
                key = m.get<std::string>();
                if (key.find(' ') == std::string::npos)
                    return fail("model.merges", "merge " + std::to_string(rank) + " is not 'a b'");
            } else if (m.is_array() && m.size() == 2) {
                key = m[0].get<std::string>() + " " + m[1].get<std::string>();
            } else {
                return fail("model.merges", "merge " + std::to_string(rank) + " is neither 'a b' nor [a, b]");
            }
            impl->mergeRank.emplace(std::move(key), rank++);
        }
        for (const auto &a : j.value("added_tokens", json::array())) {
            AddedToken t{a.at("content").get<std::string>(), tokenIdOf(a.at("id"), "added_tokens.id"), a.value("special", false),
                         a.value("lstrip", false), a.value("rstrip", false)};
            maxId = std::max(maxId, t.id);
            impl->added.push_back(std::move(t));
        }
        std::stable_sort(impl->added.begin(), impl->added.end(),
                         [](const AddedToken &a, const AddedToken &b) { return a.content.size() > b.content.size(); });
        impl->idToToken.resize(static_cast<std::size_t>(maxId + 1));
        impl->isSpecial.resize(static_cast<std::size_t>(maxId + 1));
        impl->isAdded.resize(static_cast<std::size_t>(maxId + 1));
        for (const auto &[token, id] : impl->vocab)
            impl->idToToken[static_cast<std::size_t>(id)] = token;
        for (const auto &a : impl->added) {
            impl->idToToken[static_cast<std::size_t>(a.id)] = a.content;
            impl->isSpecial[static_cast<std::size_t>(a.id)] = a.special;
            impl->isAdded[static_cast<std::size_t>(a.id)] = true;
        }
        impl->tokenBytes.resize(impl->idToToken.size());
        for (std::size_t id = 0; id < impl->idToToken.size(); ++id) {
            const auto &tok = impl->idToToken[id];
            if (impl->isAdded[id]) {
                impl->tokenBytes[id] = static_cast<std::uint32_t>(tok.size());
                continue;
            }
            std::uint32_t n = 0; // one byte-level symbol per byte of text
            for (std::size_t p = 0; p < tok.size(); ++n)
                nextCodepoint(tok, p);
            impl->tokenBytes[id] = n;
        }
        const auto &norm = j.at("normalizer");
        if (!norm.is_null()) {
            if (norm.value("type", std::string()) != "NFC")
                return fail("normalizer.type", "only NFC (or none) is supported");
            impl->nfc = true;
        }
        // The Split regex of the pre-tokenizer (alone or inside a Sequence).
        const auto &pre = j.at("pre_tokenizer");
        std::string pattern;
        const auto takeSplit = [&](const json &p) {
            if (p.value("type", std::string()) == "Split" && p.contains("pattern") && p["pattern"].contains("Regex"))
                pattern = p["pattern"]["Regex"].get<std::string>();
        };
        if (pre.value("type", std::string()) == "Sequence")
            for (const auto &p : pre.at("pretokenizers"))
                takeSplit(p);
        else
            takeSplit(pre);
        if (pattern.empty())
            return fail("pre_tokenizer", "no Split pre-tokenizer with a Regex pattern (byte-level Qwen style expected)");
        int err = 0;
        PCRE2_SIZE errOffset = 0;
        impl->regex = pcre2_compile(reinterpret_cast<PCRE2_SPTR>(pattern.data()), pattern.size(),
                                    PCRE2_UTF | PCRE2_UCP | PCRE2_NO_UTF_CHECK, &err, &errOffset, nullptr);
        if (!impl->regex) {
            std::array<PCRE2_UCHAR, 256> msg{};
            pcre2_get_error_message(err, msg.data(), msg.size());
            return fail("pre_tokenizer.pattern", "the regex does not compile at offset " + std::to_string(errOffset) +
                                                     ": " + reinterpret_cast<const char *>(msg.data()));
        }
        pcre2_jit_compile(impl->regex, PCRE2_JIT_COMPLETE); // optional speed-up; falls back when unavailable
    } catch (const json::exception &e) {
        return fail("", std::string("unexpected structure: ") + e.what());
    } catch (const InputError &e) {
        return std::unexpected(Error{ErrorKind::BadInput, e.what()});
    }
    return std::shared_ptr<const Tokenizer>(new Tokenizer(std::move(impl)));
}

std::vector<std::int32_t> Tokenizer::encode(std::string_view text) const
{
    const TextSegment whole{text, true};
    return m_impl->encodeSegments({&whole, 1}, nullptr, nullptr).ids;
}

SegmentEncoding Tokenizer::encodeSegments(std::span<const TextSegment> segments) const
{
    return m_impl->encodeSegments(segments, nullptr, nullptr);
}

std::string Tokenizer::truncateToTokens(std::string_view text, std::size_t maxTokens) const
{
    const TextSegment whole{text, false};
    std::vector<std::size_t> ends;
    std::string normalized;
    const auto enc = m_impl->encodeSegments({&whole, 1}, &ends, &normalized);
    if (enc.ids.size() <= maxTokens)
        return normalized;
    auto cut = maxTokens == 0 ? 0 : ends[maxTokens - 1];
    // A byte-level token may end inside a character: keep whole characters only.
    while (cut > 0 && (static_cast<unsigned char>(normalized[cut]) & 0xC0) == 0x80)
        --cut;
    return normalized.substr(0, cut);
}

std::string Tokenizer::decode(std::span<const std::int32_t> ids, bool skipSpecial) const
{
    const auto &bytes = byteMap();
    std::string out, pending; // pending: raw bytes of BPE tokens
    for (const auto id : ids) {
        if (id < 0 || static_cast<std::size_t>(id) >= m_impl->idToToken.size())
            continue;
        const auto &tok = m_impl->idToToken[static_cast<std::size_t>(id)];
        if (m_impl->isAdded[static_cast<std::size_t>(id)]) {
            out += decodeUtf8Lossy(pending);
            pending.clear();
            if (!(skipSpecial && m_impl->isSpecial[static_cast<std::size_t>(id)]))
                out += tok;
            continue;
        }
        std::size_t p = 0;
        while (p < tok.size()) {
            const auto cp = nextCodepoint(tok, p);
            const auto it = bytes.byteOf.find(cp);
            if (it != bytes.byteOf.end())
                pending += static_cast<char>(it->second);
        }
    }
    out += decodeUtf8Lossy(pending);
    return out;
}

std::optional<std::string> Tokenizer::tokenString(std::int32_t id) const
{
    if (id < 0 || static_cast<std::size_t>(id) >= m_impl->idToToken.size() || m_impl->idToToken[static_cast<std::size_t>(id)].empty())
        return std::nullopt;
    return m_impl->idToToken[static_cast<std::size_t>(id)];
}

std::optional<std::int32_t> Tokenizer::tokenId(std::string_view token) const
{
    for (const auto &a : m_impl->added)
        if (a.content == token)
            return a.id;
    const auto it = m_impl->vocab.find(std::string(token));
    return it == m_impl->vocab.end() ? std::nullopt : std::optional(it->second);
}

std::optional<std::int32_t> Tokenizer::singleTokenId(std::string_view text) const
{
    const auto ids = encode(text);
    return ids.size() == 1 ? std::optional(ids[0]) : std::nullopt;
}

std::int32_t Tokenizer::size() const
{
    return static_cast<std::int32_t>(m_impl->idToToken.size());
}

} // namespace unirank::text
