// SPDX-License-Identifier: GPL-3.0-or-later
// Paints the Rank tab's score column as a bar (the calibrated probability, or the raw score squashed
// to 0..1) and the modality column as a coloured badge; every other cell as usual.
//
// Threading: GUI thread only.
#pragma once

#include <QStyledItemDelegate>

namespace unirank::ui {

class RankedListDelegate final : public QStyledItemDelegate {
    Q_OBJECT

public:
    using QStyledItemDelegate::QStyledItemDelegate;
    void paint(QPainter *painter, const QStyleOptionViewItem &option, const QModelIndex &index) const override;
    QSize sizeHint(const QStyleOptionViewItem &option, const QModelIndex &index) const override;

    static QColor modalityColor(const QString &modality);
};

} // namespace unirank::ui
