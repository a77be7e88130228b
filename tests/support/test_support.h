// SPDX-License-Identifier: GPL-3.0-or-later
// Helpers shared by the test programs: where the sources and the demo data are, scratch folders.
#pragma once

#include <filesystem>
#include <string>

namespace unirank::test {

/// The source tree (from UNIRANK_SOURCE_DIR, set by CTest).
std::filesystem::path sourceDir();
/// The build tree (from UNIRANK_BINARY_DIR).
std::filesystem::path binaryDir();
/// The shipped smoke dataset: resources/demo/clipart-smoke.
std::filesystem::path smokeDataset();
/// Copies a dataset folder (to mutate it for bad-input cases).
void copyFolder(const std::filesystem::path &from, const std::filesystem::path &to);
/// Replaces the whole content of a text file.
void writeText(const std::filesystem::path &file, const std::string &text);
std::string readText(const std::filesystem::path &file);

} // namespace unirank::test

namespace unirank::test {

/// Writes a small valid dataset (2 queries, 3 text + 2 image candidates, qrels, run) into `dir`,
/// using two images of the smoke set. Bad-input tests mutate one file of it.
void makeTinyDataset(const std::filesystem::path &dir);

} // namespace unirank::test

namespace unirank::test {

/// The shipped copy of the golden Qwen2-VL reference data: tests/data/golden/qwen2vl.
std::filesystem::path goldenDir();

} // namespace unirank::test
