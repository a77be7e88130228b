// SPDX-License-Identifier: GPL-3.0-or-later
// A BEIR dataset folder, read through the real entry point (readBeirFolder). The input is split at
// lines "%%" into corpus.jsonl, queries.jsonl, qrels.tsv and (optional) run.trec, written into a
// scratch folder that also holds images/a.png, a symlink pointing out of the folder and a file beside
// the folder. An accepted dataset must reference only images inside its folder.
#include "fuzz_target.h"

#include "core/formats/beir.h"

#include <array>
#include <filesystem>
#include <fstream>
#include <unistd.h>

namespace fs = std::filesystem;

namespace {
fs::path g_root;

void writeFile(const fs::path &p, std::string_view bytes)
{
    std::ofstream out(p, std::ios::binary | std::ios::trunc);
    out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
}

// A 1x1 PNG.
constexpr unsigned char kPng[] = {
    0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0x00, 0x00, 0x00, 0x0d, 0x49, 0x48, 0x44, 0x52, 0x00, 0x00,
    0x00, 0x01, 0x00, 0x00, 0x00, 0x01, 0x08, 0x02, 0x00, 0x00, 0x00, 0x90, 0x77, 0x53, 0xde, 0x00, 0x00, 0x00,
    0x0c, 0x49, 0x44, 0x41, 0x54, 0x78, 0x9c, 0x63, 0xf8, 0xcf, 0xc0, 0x00, 0x00, 0x03, 0x01, 0x01, 0x00, 0xc9,
    0xfe, 0x92, 0xef, 0x00, 0x00, 0x00, 0x00, 0x49, 0x45, 0x4e, 0x44, 0xae, 0x42, 0x60, 0x82};
} // namespace

extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    std::string tmpl = (fs::temp_directory_path() / "unirank-fuzz-beir-XXXXXX").string();
    if (!::mkdtemp(tmpl.data()))
        std::abort();
    const fs::path scratch(tmpl);
    g_root = scratch / "dataset";
    fs::create_directories(g_root / "images");
    const std::string_view png(reinterpret_cast<const char *>(kPng), sizeof kPng);
    writeFile(g_root / "images" / "a.png", png);
    writeFile(scratch / "outside.png", png);
    fs::create_symlink(scratch / "outside.png", g_root / "images" / "link.png");
    std::atexit([] { std::error_code ec; fs::remove_all(g_root.parent_path(), ec); });
    return 0;
}

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t *data, std::size_t size)
{
    using namespace unirank;
    constexpr std::array<const char *, 4> files{"corpus.jsonl", "queries.jsonl", "qrels.tsv", "run.trec"};
    std::string_view rest = fuzz::asText(data, size);
    for (std::size_t i = 0; i < files.size(); ++i) {
        const auto cut = rest.find("\n%%\n");
        const auto part = rest.substr(0, cut);
        rest = cut == std::string_view::npos ? std::string_view{} : rest.substr(cut + 4);
        std::error_code ec;
        if (i == 3 && part.empty())
            fs::remove(g_root / files[i], ec);
        else
            writeFile(g_root / files[i], part);
    }
    try {
        const auto dataset = readBeirFolder(g_root);
        const auto root = fs::canonical(g_root).string() + "/";
        for (const auto &[rel, image] : dataset.images)
            if (!fs::weakly_canonical(image.absolutePath).string().starts_with(root)) {
                std::fprintf(stderr, "fuzz_beir_folder: '%s' resolved outside the dataset\n", rel.c_str());
                std::abort();
            }
    } catch (const InputError &) {
    }
    return 0;
}
