// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/formats/trl.h"

#include "core/util/atomic_file.h"

#include <nlohmann/json.hpp>

namespace unirank {

void writeTrlJsonl(const std::filesystem::path &path, const std::vector<TrlPair> &pairs)
{
    const auto images = [](const std::string &p) {
        return p.empty() ? nlohmann::ordered_json::array() : nlohmann::ordered_json::array({p});
    };
    std::string text;
    for (const auto &p : pairs) {
        nlohmann::ordered_json j;
        j["prompt"] = p.prompt;
        j["chosen"] = p.chosen;
        j["rejected"] = p.rejected;
        j["images"] = images(p.promptImage);
        j["chosen_images"] = images(p.chosenImage);
        j["rejected_images"] = images(p.rejectedImage);
        j["query_id"] = p.queryId;
        j["chosen_id"] = p.chosenId;
        j["rejected_id"] = p.rejectedId;
        j["source"] = p.source;
        j["annotator"] = p.annotator;
        if (!p.reason.empty())
            j["reason"] = p.reason;
        text += j.dump() + "\n";
    }
    writeFileAtomically(path, text);
}

} // namespace unirank
