// SPDX-License-Identifier: GPL-3.0-or-later
// What the Rank and Label tabs show of a collection, loaded once per collection on a pool thread: the
// first-stage lists with each candidate's text and image file, the query texts and the candidates'
// modalities. Immutable once built, shared by the tabs through a shared_ptr.
//
// Threading: build with loadSnapshot() on a worker (its own connection); read from any thread.
#pragma once

#include "core/util/error.h"
#include "storage/score_store.h"

#include <map>
#include <memory>

namespace unirank::ui {

struct CollectionSnapshot {
    std::int64_t collectionId = 0;
    std::vector<storage::CandidateList> lists; ///< first-stage lists, in import order
    std::map<std::int64_t, Modality> modality; ///< by candidate id

    const storage::CandidateList *list(std::int64_t queryId) const;
    const storage::ListItem *item(std::int64_t queryId, std::int64_t candidateId) const;
    Modality modalityOf(std::int64_t candidateId) const;

    std::map<std::int64_t, std::size_t> index; ///< query id -> position in lists
};

/// Opens the project file read-only on the calling thread and reads the collection.
Result<std::shared_ptr<const CollectionSnapshot>> loadSnapshot(const std::string &projectFile, std::int64_t collectionId);

} // namespace unirank::ui
