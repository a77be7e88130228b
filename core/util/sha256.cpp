// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/util/sha256.h"

#include "core/util/error.h"

#include <openssl/evp.h>

#include <array>
#include <fstream>
#include <memory>

namespace unirank {
namespace {

struct DigestCtx {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx{EVP_MD_CTX_new(), &EVP_MD_CTX_free};

    DigestCtx()
    {
        if (!ctx || EVP_DigestInit_ex(ctx.get(), EVP_sha256(), nullptr) != 1)
            throw std::runtime_error("SHA-256: cannot initialise OpenSSL digest");
    }
    void update(const void *data, std::size_t n)
    {
        if (EVP_DigestUpdate(ctx.get(), data, n) != 1)
            throw std::runtime_error("SHA-256: digest update failed");
    }
    std::string hex()
    {
        std::array<unsigned char, EVP_MAX_MD_SIZE> md{};
        unsigned int len = 0;
        if (EVP_DigestFinal_ex(ctx.get(), md.data(), &len) != 1)
            throw std::runtime_error("SHA-256: digest final failed");
        static constexpr char digits[] = "0123456789abcdef";
        std::string out;
        out.reserve(len * 2);
        for (unsigned int i = 0; i < len; ++i) {
            out.push_back(digits[md[i] >> 4]);
            out.push_back(digits[md[i] & 0xF]);
        }
        return out;
    }
};

} // namespace

std::string sha256Hex(std::string_view bytes)
{
    DigestCtx d;
    d.update(bytes.data(), bytes.size());
    return d.hex();
}

std::string sha256File(const std::filesystem::path &path)
{
    std::ifstream in(path, std::ios::binary);
    if (!in)
        throw InputError(SourceLocation{path.string()}, "cannot open file for reading");
    DigestCtx d;
    std::array<char, 1 << 16> buf{};
    while (in) {
        in.read(buf.data(), buf.size());
        if (in.gcount() > 0)
            d.update(buf.data(), static_cast<std::size_t>(in.gcount()));
    }
    if (in.bad())
        throw InputError(SourceLocation{path.string()}, "read error");
    return d.hex();
}

} // namespace unirank
