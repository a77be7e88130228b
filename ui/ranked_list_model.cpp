// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/ranked_list_model.h"

#include "ui/thumbnail_cache.h"

#include <QMimeData>

namespace unirank::ui {

namespace {
constexpr auto kMime = "application/x-unirank-candidate";
}

RankedListModel::RankedListModel(QObject *parent) : QAbstractTableModel(parent) {}

void RankedListModel::setThumbnails(ThumbnailCache *cache)
{
    m_thumbnails = cache;
    if (!cache)
        return;
    connect(cache, &ThumbnailCache::ready, this, [this](const QString &path) {
        const auto file = path.toStdString();
        for (std::size_t i = 0; i < m_rows.size(); ++i)
            if (m_rows[i].image == file)
                emit dataChanged(index(int(i), CandidateColumn), index(int(i), CandidateColumn), {Qt::DecorationRole});
    });
}

void RankedListModel::setRows(std::vector<RankedRow> rows)
{
    beginResetModel();
    m_rows = std::move(rows);
    endResetModel();
}

void RankedListModel::clear()
{
    setRows({});
}

bool RankedListModel::setGrade(std::int64_t candidateId, int grade)
{
    const int row = rowOf(candidateId);
    if (row < 0)
        return false;
    m_rows[static_cast<std::size_t>(row)].grade = grade;
    emit dataChanged(index(row, LabelColumn), index(row, LabelColumn), {Qt::DisplayRole, GradeRole});
    return true;
}

const RankedRow *RankedListModel::rowAt(int row) const
{
    return row >= 0 && row < rowCount() ? &m_rows[static_cast<std::size_t>(row)] : nullptr;
}

int RankedListModel::rowOf(std::int64_t candidateId) const
{
    for (std::size_t i = 0; i < m_rows.size(); ++i)
        if (m_rows[i].candidateId == candidateId)
            return static_cast<int>(i);
    return -1;
}

int RankedListModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : static_cast<int>(m_rows.size());
}

int RankedListModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant RankedListModel::data(const QModelIndex &index, int role) const
{
    if (!checkIndex(index, CheckIndexOption::IndexIsValid | CheckIndexOption::ParentIsInvalid))
        return {};
    const auto &r = m_rows[static_cast<std::size_t>(index.row())];
    switch (role) {
    case CandidateIdRole:
        return QVariant::fromValue<qlonglong>(r.candidateId);
    case ScoreRole:
        return r.score;
    case ProbabilityRole:
        return r.probability ? QVariant(*r.probability) : QVariant();
    case ModalityRole:
        return QString::fromUtf8(toString(r.modality).data(), static_cast<qsizetype>(toString(r.modality).size()));
    case ImagePathRole:
        return QString::fromStdString(r.image.string());
    case GradeRole:
        return r.grade;
    case Qt::DisplayRole:
        switch (index.column()) {
        case RankColumn:
            return index.row() + 1;
        case ScoreColumn:
            if (!r.error.empty())
                return tr("error");
            return r.probability ? QString::number(*r.probability, 'f', 3) : QString::number(r.score, 'g', 4);
        case ModalityColumn:
            return data(index, ModalityRole);
        case CandidateColumn:
            return r.snippet.empty() ? QString::fromStdString(r.extId) : QString::fromStdString(r.snippet);
        case LabelColumn:
            return r.grade < 0 ? QString() : QString::number(r.grade);
        case ChangeColumn:
            if (!r.rankChange)
                return QString();
            return *r.rankChange > 0 ? QStringLiteral("+%1").arg(*r.rankChange) : QString::number(*r.rankChange);
        default:
            return {};
        }
    case Qt::DecorationRole:
        if (index.column() == CandidateColumn && m_thumbnails && !r.image.empty())
            return m_thumbnails->get(QString::fromStdString(r.image.string()));
        return {};
    case Qt::ToolTipRole:
        return r.error.empty() ? (r.snippet.empty() ? QString::fromStdString(r.extId)
                                                    : tr("%1: %2").arg(QString::fromStdString(r.extId), QString::fromStdString(r.snippet)))
                               : tr("%1: not scored: %2").arg(QString::fromStdString(r.extId), QString::fromStdString(r.error));
    case Qt::TextAlignmentRole:
        return index.column() == CandidateColumn ? QVariant() : QVariant(int(Qt::AlignRight | Qt::AlignVCenter));
    default:
        return {};
    }
}

QVariant RankedListModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case RankColumn: return tr("Rank");
    case ScoreColumn: return tr("Score");
    case ModalityColumn: return tr("Type");
    case CandidateColumn: return tr("Candidate");
    case LabelColumn: return tr("Label");
    case ChangeColumn: return tr("Change");
    default: return {};
    }
}

Qt::ItemFlags RankedListModel::flags(const QModelIndex &index) const
{
    auto f = QAbstractTableModel::flags(index);
    if (index.isValid())
        f |= Qt::ItemIsDragEnabled | Qt::ItemIsDropEnabled;
    return f;
}

Qt::DropActions RankedListModel::supportedDropActions() const { return Qt::MoveAction | Qt::CopyAction; }

QStringList RankedListModel::mimeTypes() const { return {QString::fromLatin1(kMime)}; }

QMimeData *RankedListModel::mimeData(const QModelIndexList &indexes) const
{
    if (indexes.isEmpty() || !rowAt(indexes.front().row()))
        return nullptr;
    auto *data = new QMimeData;
    data->setData(QString::fromLatin1(kMime), QByteArray::number(qlonglong(rowAt(indexes.front().row())->candidateId)));
    return data;
}

std::optional<std::int64_t> RankedListModel::droppedCandidate(const QMimeData *data) const
{
    if (!data || !data->hasFormat(QString::fromLatin1(kMime)))
        return std::nullopt;
    bool ok = false;
    const auto id = data->data(QString::fromLatin1(kMime)).toLongLong(&ok);
    if (!ok || rowOf(id) < 0)
        return std::nullopt;
    return id;
}

bool RankedListModel::canDropMimeData(const QMimeData *data, Qt::DropAction, int row, int, const QModelIndex &parent) const
{
    const auto dragged = droppedCandidate(data);
    const int target = parent.isValid() ? parent.row() : row;
    return dragged && rowAt(target) && rowAt(target)->candidateId != *dragged;
}

bool RankedListModel::dropMimeData(const QMimeData *data, Qt::DropAction action, int row, int column,
                                   const QModelIndex &parent)
{
    if (!canDropMimeData(data, action, row, column, parent))
        return false;
    const int target = parent.isValid() ? parent.row() : row;
    emit preferenceDropped(*droppedCandidate(data), rowAt(target)->candidateId);
    return false; // nothing moves, and the view must not remove the dragged row
}

} // namespace unirank::ui
