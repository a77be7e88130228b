// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/text/unicode.h"

#include "core/util/error.h"
#include "core/util/utf8.h"

#include <unicode/unorm2.h>
#include <unicode/ustring.h>

#include <algorithm>
#include <vector>

namespace unirank::text {

std::string toNfc(std::string_view utf8)
{
    if (std::all_of(utf8.begin(), utf8.end(), [](char c) { return static_cast<unsigned char>(c) < 0x80; }))
        return std::string(utf8); // ASCII is always NFC
    if (const auto bad = findInvalidUtf8(utf8))
        throw InputError("text is not valid UTF-8 (byte " + std::to_string(*bad) + ")");
    UErrorCode status = U_ZERO_ERROR;
    const UNormalizer2 *nfc = unorm2_getNFCInstance(&status);
    std::vector<UChar> u16(utf8.size() + 1);
    int32_t len16 = 0;
    u_strFromUTF8(u16.data(), static_cast<int32_t>(u16.size()), &len16, utf8.data(), static_cast<int32_t>(utf8.size()),
                  &status);
    if (U_FAILURE(status))
        throw std::runtime_error(std::string("ICU: ") + u_errorName(status));
    if (unorm2_quickCheck(nfc, u16.data(), len16, &status) == UNORM_YES && U_SUCCESS(status))
        return std::string(utf8);
    std::vector<UChar> normed(static_cast<std::size_t>(len16) * 3 + 16);
    const int32_t lenN = unorm2_normalize(nfc, u16.data(), len16, normed.data(), static_cast<int32_t>(normed.size()), &status);
    if (U_FAILURE(status))
        throw std::runtime_error(std::string("ICU NFC: ") + u_errorName(status));
    std::string out(static_cast<std::size_t>(lenN) * 3 + 4, '\0');
    int32_t len8 = 0;
    u_strToUTF8(out.data(), static_cast<int32_t>(out.size()), &len8, normed.data(), lenN, &status);
    if (U_FAILURE(status))
        throw std::runtime_error(std::string("ICU: ") + u_errorName(status));
    out.resize(static_cast<std::size_t>(len8));
    return out;
}

void appendUtf8(std::string &out, char32_t cp)
{
    if (cp < 0x80) {
        out += static_cast<char>(cp);
    } else if (cp < 0x800) {
        out += static_cast<char>(0xC0 | (cp >> 6));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else if (cp < 0x10000) {
        out += static_cast<char>(0xE0 | (cp >> 12));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    } else {
        out += static_cast<char>(0xF0 | (cp >> 18));
        out += static_cast<char>(0x80 | ((cp >> 12) & 0x3F));
        out += static_cast<char>(0x80 | ((cp >> 6) & 0x3F));
        out += static_cast<char>(0x80 | (cp & 0x3F));
    }
}

char32_t nextCodepoint(std::string_view s, std::size_t &pos)
{
    const auto b0 = static_cast<unsigned char>(s[pos]);
    int n = b0 < 0x80 ? 1 : b0 < 0xE0 ? 2 : b0 < 0xF0 ? 3 : 4;
    char32_t cp = n == 1 ? b0 : n == 2 ? (b0 & 0x1F) : n == 3 ? (b0 & 0x0F) : (b0 & 0x07);
    for (int i = 1; i < n && pos + static_cast<std::size_t>(i) < s.size(); ++i)
        cp = (cp << 6) | (static_cast<unsigned char>(s[pos + static_cast<std::size_t>(i)]) & 0x3F);
    pos += static_cast<std::size_t>(n);
    return cp;
}

std::string decodeUtf8Lossy(std::string_view s)
{
    std::string out;
    out.reserve(s.size());
    std::size_t i = 0;
    while (i < s.size()) {
        const auto b0 = static_cast<unsigned char>(s[i]);
        if (b0 < 0x80) {
            out += static_cast<char>(b0);
            ++i;
            continue;
        }
        int need = 0;
        unsigned char lo = 0x80, hi = 0xBF; // allowed range of the second byte
        if (b0 >= 0xC2 && b0 <= 0xDF) {
            need = 1;
        } else if (b0 >= 0xE0 && b0 <= 0xEF) {
            need = 2;
            lo = b0 == 0xE0 ? 0xA0 : 0x80;
            hi = b0 == 0xED ? 0x9F : 0xBF;
        } else if (b0 >= 0xF0 && b0 <= 0xF4) {
            need = 3;
            lo = b0 == 0xF0 ? 0x90 : 0x80;
            hi = b0 == 0xF4 ? 0x8F : 0xBF;
        }
        std::size_t len = 1;
        bool ok = need > 0;
        for (int k = 1; ok && k <= need; ++k) {
            if (i + static_cast<std::size_t>(k) >= s.size()) {
                ok = false;
                break;
            }
            const auto b = static_cast<unsigned char>(s[i + static_cast<std::size_t>(k)]);
            const bool inRange = k == 1 ? (b >= lo && b <= hi) : (b >= 0x80 && b <= 0xBF);
            if (!inRange) {
                ok = false;
                break;
            }
            ++len;
        }
        if (ok) {
            out.append(s.substr(i, len));
        } else {
            out += "\xEF\xBF\xBD"; // the maximal valid prefix becomes one U+FFFD
        }
        i += len;
    }
    return out;
}

} // namespace unirank::text
