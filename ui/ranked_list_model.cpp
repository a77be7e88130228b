// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/ranked_list_model.h"

namespace unirank::ui {

RankedListModel::RankedListModel(QObject *parent) : QAbstractTableModel(parent) {}

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
    case Qt::ToolTipRole:
        return QString::fromStdString(r.extId);
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
    case ModalityColumn: return tr("Modality");
    case CandidateColumn: return tr("Candidate");
    case LabelColumn: return tr("Label");
    case ChangeColumn: return tr("Change");
    default: return {};
    }
}

} // namespace unirank::ui
