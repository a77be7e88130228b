// SPDX-License-Identifier: GPL-3.0-or-later
#include "storage/media_store.h"

#include "core/util/atomic_file.h"

namespace fs = std::filesystem;

namespace unirank::storage {

MediaStore::MediaStore(fs::path root)
    : m_root(std::move(root))
{
}

std::string MediaStore::relativePathFor(const std::string &sha256, const std::string &format)
{
    const std::string ext = format == "jpeg" ? "jpg" : format;
    return sha256.substr(0, 2) + "/" + sha256 + "." + ext;
}

fs::path MediaStore::absolutePath(const std::string &relativePath) const { return m_root / relativePath; }

bool MediaStore::putFile(const fs::path &source, const std::string &relativePath) const
{
    const auto dest = absolutePath(relativePath);
    std::error_code ec;
    if (fs::exists(dest, ec))
        return false;
    fs::create_directories(dest.parent_path());
    writeFileAtomically(dest, readWholeFile(source), AtomicFile::Sync::Deferred);
    return true;
}

void MediaStore::syncAll() const { syncFileSystem(m_root); }

void MediaStore::remove(const std::string &relativePath) const noexcept
{
    std::error_code ec;
    fs::remove(absolutePath(relativePath), ec);
}

} // namespace unirank::storage
