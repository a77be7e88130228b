// SPDX-License-Identifier: GPL-3.0-or-later
// Preference pairs as TRL-style JSONL (one object per line), the format Hugging Face TRL's DPO and
// reward trainers read: "prompt", "chosen", "rejected", plus the image paths of each side so that
// image candidates stay images, and provenance fields that trainers ignore.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace unirank {

struct TrlPair {
    std::string prompt;          ///< the query text
    std::string promptImage;     ///< absolute path, empty when the query has no image
    std::string chosen;          ///< candidate text ("" for an image-only candidate)
    std::string chosenImage;     ///< absolute path, empty for a text candidate
    std::string rejected;
    std::string rejectedImage;
    std::string queryId, chosenId, rejectedId;
    std::string source;          ///< human | derived | mined
    std::string annotator;
    std::string reason;          ///< why the pair was chosen (written when not empty)
};

/// Writes the pairs atomically, one JSON object per line.
void writeTrlJsonl(const std::filesystem::path &path, const std::vector<TrlPair> &pairs);

} // namespace unirank
