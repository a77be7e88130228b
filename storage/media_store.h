// SPDX-License-Identifier: GPL-3.0-or-later
// Content-addressed image files beside the project database: <media>/<h0h1>/<sha256>.<ext>.
// Files are immutable once written; the same bytes are stored once.
//
// Threading: methods are safe to call from several threads (no mutable state besides the file system).
// Errors: std::system_error / InputError naming the path.
#pragma once

#include <filesystem>
#include <string>
#include <vector>

namespace unirank::storage {

class MediaStore {
public:
    explicit MediaStore(std::filesystem::path root);

    const std::filesystem::path &root() const { return m_root; }

    /// Relative path (inside root) of the file for a hash and format ("png", "jpeg", ...).
    static std::string relativePathFor(const std::string &sha256, const std::string &format);

    std::filesystem::path absolutePath(const std::string &relativePath) const;

    /// Copies `source` in unless a file with that relative path exists. The copy appears atomically
    /// (temp + rename) but is durable only after syncAll(): call it once after a batch, before the
    /// database transaction that references the files commits.
    /// Returns true when a new file was created (so a failed import can remove exactly those).
    bool putFile(const std::filesystem::path &source, const std::string &relativePath) const;

    /// Makes every file written by putFile durable (one syncfs for the whole batch).
    void syncAll() const;

    void remove(const std::string &relativePath) const noexcept;

private:
    std::filesystem::path m_root;
};

/// The files one import or copy created with putFile: removed again when it goes out of scope, unless
/// keep() was called after the rows that name them committed.
class NewMediaFiles {
public:
    explicit NewMediaFiles(const MediaStore &store)
        : m_store(store)
    {
    }
    ~NewMediaFiles()
    {
        if (!m_keep)
            for (const auto &rel : m_created)
                m_store.remove(rel);
    }
    NewMediaFiles(const NewMediaFiles &) = delete;
    NewMediaFiles &operator=(const NewMediaFiles &) = delete;

    void add(std::string relativePath) { m_created.push_back(std::move(relativePath)); }
    void keep() { m_keep = true; }
    std::size_t count() const { return m_created.size(); }

private:
    const MediaStore &m_store;
    std::vector<std::string> m_created;
    bool m_keep = false;
};

} // namespace unirank::storage
