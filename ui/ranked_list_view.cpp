// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/ranked_list_view.h"

#include "ui/ranked_list_delegate.h"
#include "ui/ranked_list_model.h"

#include <QHeaderView>

#include <algorithm>

namespace unirank::ui {

RankedListView::RankedListView(RankedListModel *model, ThumbnailCache *thumbnails, QWidget *parent) : QTableView(parent)
{
    model->setThumbnails(thumbnails);
    setModel(model);
    setItemDelegate(new RankedListDelegate(this));
    setSelectionBehavior(QAbstractItemView::SelectRows);
    setSelectionMode(QAbstractItemView::SingleSelection);
    setEditTriggers(QAbstractItemView::NoEditTriggers);
    setIconSize({48, 48});
    verticalHeader()->hide();
    verticalHeader()->setDefaultSectionSize(std::max(52, 3 * fontMetrics().lineSpacing() + 6));
    setWordWrap(true);
    setTextElideMode(Qt::ElideRight);
    auto *header = horizontalHeader();
    header->setResizeContentsPrecision(64);
    header->setMinimumSectionSize(24);
    header->setSectionResizeMode(QHeaderView::ResizeToContents);
    header->setSectionResizeMode(RankedListModel::CandidateColumn, QHeaderView::Stretch);
    header->setSectionResizeMode(RankedListModel::ScoreColumn, QHeaderView::Fixed);
    header->resizeSection(RankedListModel::ScoreColumn, fontMetrics().horizontalAdvance(QStringLiteral("0.0000")) + 16);
    setDragEnabled(true);
    setAcceptDrops(true);
    setDropIndicatorShown(true);
    setDragDropMode(QAbstractItemView::DragDrop);
    setDefaultDropAction(Qt::CopyAction);
}

} // namespace unirank::ui
