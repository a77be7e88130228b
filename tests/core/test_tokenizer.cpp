// SPDX-License-Identifier: GPL-3.0-or-later
// The tokenizer against the reference: every golden string of tokenizer_cases.json (ids, token
// strings and decoding exact) with the real Qwen tokenizer, the tiny checkpoint's tokenizer (older
// "a b" merge encoding) with the ids its README lists, chat rendering, and bad files.
#include "core/text/chat_prompt.h"
#include "core/text/tokenizer.h"
#include "core/util/atomic_file.h"
#include "core/util/sha256.h"
#include "test_support.h"

#include <QTest>

#include <array>

#include <nlohmann/json.hpp>

using namespace unirank;
using namespace unirank::text;
using nlohmann::json;

class TestTokenizer : public QObject {
    Q_OBJECT
    std::shared_ptr<const Tokenizer> m_qwen, m_tiny;

private slots:
    void initTestCase()
    {
        // The unpacked copy is byte-identical to the reference's file.
        const auto manifest = json::parse(readWholeFile(test::goldenDir() / "manifest.json"));
        std::string expected;
        for (const auto &f : manifest.at("files"))
            if (f.at("path") == "tokenizer/tokenizer.json")
                expected = f.at("sha256").get<std::string>();
        QVERIFY(!expected.empty());
        QCOMPARE(sha256File(UNIRANK_TEST_TOKENIZER), expected);
        auto qwen = Tokenizer::load(UNIRANK_TEST_TOKENIZER);
        QVERIFY2(qwen.has_value(), qwen ? "" : qwen.error().message.c_str());
        m_qwen = *qwen;
        auto tiny = Tokenizer::load(test::goldenDir() / "tiny_tokenizer" / "tokenizer.json");
        QVERIFY2(tiny.has_value(), tiny ? "" : tiny.error().message.c_str());
        m_tiny = *tiny;
    }

    void goldenStrings()
    {
        const auto cases = json::parse(readWholeFile(test::goldenDir() / "tokenizer_cases.json")).at("cases");
        QCOMPARE(cases.size(), std::size_t(33));
        for (const auto &c : cases) {
            const auto text = c.at("text").get<std::string>();
            const auto expected = c.at("ids").get<std::vector<std::int32_t>>();
            const auto ids = m_qwen->encode(text);
            QVERIFY2(ids == expected, qPrintable(QString("case %1: %2").arg(c.at("index").get<int>()).arg(QString::fromStdString(text))));
            const auto tokens = c.at("tokens").get<std::vector<std::string>>();
            for (std::size_t i = 0; i < ids.size(); ++i)
                QCOMPARE(*m_qwen->tokenString(ids[i]), tokens[i]);
            QCOMPARE(m_qwen->decode(ids), c.at("decoded").get<std::string>());
        }
    }

    void segmentsTokenizeAsOneString()
    {
        // Trusted segments cut anywhere give the ids of the whole string: BPE runs across the cuts.
        const auto cases = json::parse(readWholeFile(test::goldenDir() / "tokenizer_cases.json")).at("cases");
        for (const auto &c : cases) {
            const auto text = c.at("text").get<std::string>();
            // A cut inside an added token's string (`<|im_end|>`) splits it: such strings are cut at the ends only.
            const std::size_t step = text.find('<') != std::string::npos ? std::max<std::size_t>(1, text.size()) : 7;
            for (std::size_t cut = 0; cut <= text.size(); cut += step) {
                while (cut < text.size() && (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
                    ++cut; // cut between characters
                const std::array segments{TextSegment{std::string_view(text).substr(0, cut)},
                                          TextSegment{std::string_view(text).substr(std::min(cut, text.size()))}};
                const auto enc = m_qwen->encodeSegments(segments);
                // A cut inside a composable sequence may normalise differently; the golden strings
                // with combining marks are checked only where the cut is not before a mark.
                const auto next = cut < text.size() ? static_cast<unsigned char>(text[cut]) : 0;
                if (next == 0xCC || next == 0xCD)
                    continue;
                QVERIFY2(enc.ids == m_qwen->encode(text), qPrintable(QString::fromStdString(text)));
                QCOMPARE(enc.tokensBefore.size(), std::size_t(2));
                QCOMPARE(enc.tokensBefore[0], std::size_t(0));
                QVERIFY(enc.tokensBefore[1] <= enc.ids.size());
            }
        }
        // tokensBefore counts only tokens that end before the segment: " world" spans the cut.
        const std::array split{TextSegment{"Hello "}, TextSegment{"world", false}};
        const auto enc = m_qwen->encodeSegments(split);
        QVERIFY(enc.ids == std::vector<std::int32_t>({9707, 1879}));
        QCOMPARE(enc.tokensBefore[1], std::size_t(1));
        // Outside text keeps special-token strings as characters; trusted text splits them out.
        const std::array outside{TextSegment{"a<|im_end|>b", false}};
        const auto ids = m_qwen->encodeSegments(outside).ids;
        QVERIFY(std::find(ids.begin(), ids.end(), 151645) == ids.end());
        QCOMPARE(m_qwen->decode(ids), std::string("a<|im_end|>b"));
        const std::array trusted{TextSegment{"a<|im_end|>b", true}};
        const auto split2 = m_qwen->encodeSegments(trusted).ids;
        QVERIFY(std::find(split2.begin(), split2.end(), 151645) != split2.end());
        // Non-special added tokens (Qwen3's <think>) are vocabulary and split out even in outside text.
        const std::array think{TextSegment{"x<think>y", false}};
        QVERIFY(m_qwen->encodeSegments(think).ids == m_qwen->encode("x<think>y"));
    }

    void knownIds()
    {
        QVERIFY(m_qwen->encode("Hello world") == std::vector<std::int32_t>({9707, 1879}));
        QVERIFY(m_qwen->encode(" Hello world") == std::vector<std::int32_t>({21927, 1879}));
        QCOMPARE(*m_qwen->singleTokenId("yes"), 9693);
        QCOMPARE(*m_qwen->singleTokenId("no"), 2152);
        QCOMPARE(*m_qwen->tokenId("<|image_pad|>"), 151655);
        QVERIFY(!m_qwen->singleTokenId("yes no"));
        QVERIFY(m_qwen->encode("").empty());
    }

    void tinyTokenizer()
    {
        QVERIFY(m_tiny->encode("yes") == std::vector<std::int32_t>({257}));
        QVERIFY(m_tiny->encode("no") == std::vector<std::int32_t>({258}));
        QVERIFY(m_tiny->encode("A red apple on a table") ==
                std::vector<std::int32_t>({65, 32, 114, 271, 315, 112, 382, 32, 259, 315, 263, 97, 98, 261}));
        QVERIFY(m_tiny->encode("caf\xC3\xA9 123 \xE2\x98\x83") ==
                std::vector<std::int32_t>({99, 97, 102, 195, 169, 32, 49, 50, 51, 32, 226, 152, 131}));
        const std::string chat = "<|im_start|>user\n<|vision_start|><|image_pad|><|image_pad|><|vision_end|>Is it "
                                 "relevant?<|im_end|>\n<|im_start|>assistant\n";
        const std::vector<std::int32_t> expected{497, 485, 280, 10,  505, 508, 508, 506, 73,  115, 32,  325, 32,  313, 261,
                                                 118, 285, 116, 63,  498, 10,  497, 404, 115, 105, 267, 285, 116, 10};
        const auto ids = m_tiny->encode(chat);
        QVERIFY(ids == expected);
        QCOMPARE(m_tiny->decode(ids), chat);
        QCOMPARE(m_tiny->decode(ids, true), std::string("user\nIs it relevant?\nassistant\n"));
    }

    void chatRendering()
    {
        const std::vector<ChatMessage> messages{
            {"user", {{ChatItem::Kind::Image}, {ChatItem::Kind::Text, "What is shown in this image?"}}}};
        QCOMPARE(renderChat(messages, true),
                 std::string("<|im_start|>system\nYou are a helpful assistant.<|im_end|>\n<|im_start|>user\n"
                             "<|vision_start|><|image_pad|><|vision_end|>What is shown in this image?<|im_end|>\n"
                             "<|im_start|>assistant\n"));
        const auto ids = m_qwen->encode(renderChat(messages, true));
        const std::vector<std::int32_t> prefix{151644, 8948, 198, 2610, 525, 264, 10950, 17847, 13, 151645, 198, 151644, 872, 198, 151652, 151655};
        QVERIFY(std::equal(prefix.begin(), prefix.end(), ids.begin()));
        const std::vector<std::int64_t> counts{3};
        const auto expanded = expandImagePads(ids, 151655, counts);
        QCOMPARE(std::count(expanded.begin(), expanded.end(), 151655), 3);
        QCOMPARE(expanded.size(), ids.size() + 2);
        const std::vector<std::int64_t> two{3, 4};
        QVERIFY_THROWS_EXCEPTION(InputError, expandImagePads(ids, 151655, two));
    }

    void badInput()
    {
        QVERIFY_THROWS_EXCEPTION(InputError, m_qwen->encode("bad \xFF utf8"));
        auto notJson = Tokenizer::fromJson("{", "t.json");
        QVERIFY(!notJson && notJson.error().message.find("t.json") != std::string::npos);
        auto noModel = Tokenizer::fromJson(R"({"normalizer":null})", "t.json");
        QVERIFY(!noModel);
        auto badMerge = Tokenizer::fromJson(
            R"({"model":{"type":"BPE","vocab":{"a":0},"merges":[42]},"normalizer":null,"pre_tokenizer":{"type":"Split","pattern":{"Regex":"."}}})",
            "t.json");
        QVERIFY(!badMerge);
        QVERIFY2(badMerge.error().message.find("model.merges") != std::string::npos, badMerge.error().message.c_str());
        auto badRegex = Tokenizer::fromJson(
            R"({"model":{"type":"BPE","vocab":{"a":0},"merges":[]},"normalizer":null,"pre_tokenizer":{"type":"Split","pattern":{"Regex":"a{2,1}"}}})",
            "t.json");
        QVERIFY(!badRegex);
        QVERIFY2(badRegex.error().message.find("does not compile") != std::string::npos, badRegex.error().message.c_str());
        QVERIFY(!Tokenizer::load("/no/such/tokenizer.json"));
    }
};

QTEST_GUILESS_MAIN(TestTokenizer)
#include "test_tokenizer.moc"
