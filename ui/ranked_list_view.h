// SPDX-License-Identifier: GPL-3.0-or-later
// The Rank tab's ranked list as a table: the candidate is the widest column and wraps (three lines
// beside its 48 px thumbnail), rank, score, modality, label and change take only what they need; one
// row selected at a time, not editable; rows can be dragged onto each other (the model turns a drop
// into a preference).
//
// Threading: GUI thread. Ownership: the model and thumbnail cache belong to the caller and must
// outlive the view.
#pragma once

#include <QTableView>

namespace unirank::ui {

class RankedListModel;
class ThumbnailCache;

class RankedListView final : public QTableView {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(RankedListView)

public:
    RankedListView(RankedListModel *model, ThumbnailCache *thumbnails, QWidget *parent = nullptr);
};

} // namespace unirank::ui
