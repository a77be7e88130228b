// SPDX-License-Identifier: GPL-3.0-or-later
#include "test_support.h"

#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>

namespace fs = std::filesystem;

namespace unirank::test {

static fs::path fromEnv(const char *name)
{
    const char *v = std::getenv(name);
    if (!v || !*v)
        throw std::runtime_error(std::string(name) + " is not set; run the tests through ctest");
    return v;
}

fs::path sourceDir() { return fromEnv("UNIRANK_SOURCE_DIR"); }
fs::path binaryDir() { return fromEnv("UNIRANK_BINARY_DIR"); }
fs::path smokeDataset() { return sourceDir() / "resources" / "demo" / "clipart-smoke"; }

void copyFolder(const fs::path &from, const fs::path &to)
{
    fs::copy(from, to, fs::copy_options::recursive | fs::copy_options::overwrite_existing);
}

void writeText(const fs::path &file, const std::string &text)
{
    std::ofstream out(file, std::ios::binary | std::ios::trunc);
    out << text;
    if (!out)
        throw std::runtime_error("cannot write " + file.string());
}

std::string readText(const fs::path &file)
{
    std::ifstream in(file, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
}

} // namespace unirank::test
