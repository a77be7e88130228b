// SPDX-License-Identifier: GPL-3.0-or-later
#include "storage/model_publish.h"

#include "core/util/atomic_file.h"
#include "storage/score_store.h"

namespace fs = std::filesystem;

namespace unirank::storage {

PublishedVersion publishModelFolder(Database &db, const fs::path &source, const fs::path &destination, ModelKind kind,
                                    const std::string &contentHash, std::int64_t parent, const nlohmann::json &metadata)
{
    replaceDirectoryAtomically(destination, [&](const fs::path &staging) {
        for (const auto &e : fs::directory_iterator(source))
            if (const auto name = e.path().filename();
                name != "optimizer.safetensors" && name != "optimizer.pt" && name != "trainer_state.json")
                fs::copy(e.path(), staging / e.path().filename(), fs::copy_options::recursive);
    });
    PublishedVersion published{ensureModelVersion(db, destination.filename().string(), kind, destination.string(), contentHash,
                                                  parent, metadata),
                               destination.filename().string()};
    for (const auto &v : listModelVersions(db))
        if (v.id == published.id)
            published.name = v.name;
    return published;
}

} // namespace unirank::storage
