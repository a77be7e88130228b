// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/ranked_list_delegate.h"

#include "ui/ranked_list_model.h"

#include <QApplication>
#include <QPainter>

#include <cmath>

namespace unirank::ui {

QColor RankedListDelegate::modalityColor(const QString &modality)
{
    if (modality == QLatin1String("image"))
        return {0x2e, 0x7d, 0x32};
    if (modality == QLatin1String("text+image"))
        return {0x6a, 0x1b, 0x9a};
    return {0x15, 0x65, 0xc0};
}

void RankedListDelegate::paint(QPainter *painter, const QStyleOptionViewItem &option, const QModelIndex &index) const
{
    const int column = index.column();
    if (column != RankedListModel::ScoreColumn && column != RankedListModel::ModalityColumn) {
        QStyledItemDelegate::paint(painter, option, index);
        return;
    }
    QStyleOptionViewItem opt = option;
    initStyleOption(&opt, index);
    const QString text = opt.text;
    opt.text.clear();
    QApplication::style()->drawControl(QStyle::CE_ItemViewItem, &opt, painter, opt.widget);
    painter->save();
    const QRect r = option.rect.adjusted(3, 3, -3, -3);
    if (column == RankedListModel::ScoreColumn) {
        const auto p = index.data(RankedListModel::ProbabilityRole);
        const double score = index.data(RankedListModel::ScoreRole).toDouble();
        const double fill = p.isValid() ? p.toDouble() : 1.0 / (1.0 + std::exp(-score));
        QRect bar = r;
        bar.setWidth(int(std::lround(r.width() * std::clamp(fill, 0.0, 1.0))));
        painter->fillRect(bar, QColor(0x42, 0x85, 0xf4, 110));
        painter->setPen(opt.palette.color(QPalette::Text));
        painter->drawText(r, Qt::AlignRight | Qt::AlignVCenter, text);
    } else {
        const QColor color = modalityColor(text);
        const QFontMetrics fm(opt.font);
        QRect badge(r.left(), r.center().y() - fm.height() / 2 - 1, fm.horizontalAdvance(text) + 10, fm.height() + 2);
        painter->setRenderHint(QPainter::Antialiasing);
        painter->setPen(Qt::NoPen);
        painter->setBrush(color);
        painter->drawRoundedRect(badge, 4, 4);
        painter->setPen(Qt::white);
        painter->drawText(badge, Qt::AlignCenter, text);
    }
    painter->restore();
}

QSize RankedListDelegate::sizeHint(const QStyleOptionViewItem &option, const QModelIndex &index) const
{
    auto size = QStyledItemDelegate::sizeHint(option, index); // the view sizes the score column (a bar behind the number)
    if (index.column() == RankedListModel::ModalityColumn) // the badge: the text, its padding and the cell margins
        size.setWidth(QFontMetrics(option.font).horizontalAdvance(index.data().toString()) + 10 + 6 + 4);
    return size;
}

} // namespace unirank::ui
