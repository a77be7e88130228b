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

namespace unirank::test {

void makeTinyDataset(const fs::path &dir)
{
    fs::create_directories(dir / "images");
    const auto images = smokeDataset() / "images";
    fs::copy_file(images / "c00565b776d.png", dir / "images" / "i1.png", fs::copy_options::overwrite_existing);
    fs::copy_file(images / "c023e1a88a6.png", dir / "images" / "i2.png", fs::copy_options::overwrite_existing);
    writeText(dir / "corpus.jsonl",
              "{\"_id\": \"t1\", \"title\": \"Red apple\", \"text\": \"A red apple on a table.\", \"modality\": \"text\"}\n"
              "{\"_id\": \"t2\", \"text\": \"A green pear.\", \"modality\": \"text\", \"source\": {\"pack\": 7}}\n"
              "{\"_id\": \"t3\", \"text\": \"Caf\xC3\xA9 sign \xE2\x80\x94 \xE6\x97\xA5\xE6\x9C\xAC\"}\n"
              "{\"_id\": \"i1\", \"image\": \"images/i1.png\", \"modality\": \"image\"}\n"
              "{\"_id\": \"i2\", \"title\": \"Fireman\", \"image\": \"images/i2.png\", \"modality\": \"text+image\"}\n");
    writeText(dir / "queries.jsonl", "{\"_id\": \"q1\", \"text\": \"apple\"}\n{\"_id\": \"q2\", \"text\": \"fireman\", \"lang\": \"en\"}\n");
    writeText(dir / "qrels.tsv", "query-id\tcorpus-id\tscore\nq1\tt1\t2\nq1\ti1\t1\nq1\tt2\t0\nq2\ti2\t3\nq2\tt3\t0\n");
    writeText(dir / "run.trec", "q1 Q0 t1 1 9.5 bm25\nq1 Q0 i1 2 7.25 bm25\nq1 Q0 t2 3 1 bm25\n"
                                "q2 Q0 i2 1 4 bm25\nq2 Q0 t3 2 3.5 bm25\n");
}

} // namespace unirank::test

namespace unirank::test {

std::filesystem::path goldenDir()
{
    return sourceDir() / "tests" / "data" / "golden" / "qwen2vl";
}

} // namespace unirank::test
