// SPDX-License-Identifier: GPL-3.0-or-later
// The Rank tab's list: one row per candidate of the selected query in the active model version's
// order, with score, probability, modality, a text snippet or image path, the current graded label and
// the rank change against a second version. A plain table model: the rows are computed elsewhere (a
// scoring job, a score run) and handed over whole; a label edit updates one row.
//
// Threading: GUI thread only. Ownership: a QObject child of whoever shows it.
#pragma once

#include "core/data/types.h"

#include <QAbstractTableModel>

#include <filesystem>
#include <optional>
#include <vector>

namespace unirank::ui {

struct RankedRow {
    std::int64_t candidateId = 0;
    std::string extId;
    Modality modality = Modality::Text;
    std::string snippet;            ///< the first characters of the text
    std::filesystem::path image;    ///< empty for text candidates
    double score = 0;               ///< the run's score (logit margin for model versions)
    std::optional<double> probability;
    int grade = -1;                 ///< current graded label, -1 when none
    std::optional<int> rankChange;  ///< positive: moved up against the other version
    std::string error;              ///< why the candidate could not be scored; empty when scored
};

class RankedListModel : public QAbstractTableModel {
    Q_OBJECT

public:
    enum Column { RankColumn, ScoreColumn, ModalityColumn, CandidateColumn, LabelColumn, ChangeColumn, ColumnCount };
    enum Role {
        CandidateIdRole = Qt::UserRole + 1,
        ScoreRole,        ///< double, for the score bar delegate
        ProbabilityRole,  ///< double or invalid
        ModalityRole,     ///< QString "text", "image", "text+image"
        ImagePathRole,    ///< QString, empty for text
        GradeRole,        ///< int, -1 when unlabelled
    };

    explicit RankedListModel(QObject *parent = nullptr);

    /// Shows image thumbnails from this cache (not owned); null for none.
    void setThumbnails(class ThumbnailCache *cache);

    void setRows(std::vector<RankedRow> rows); ///< replaces the list (a model reset)
    void clear();
    /// Shows a new graded label on the candidate's row; false when the candidate is not listed.
    bool setGrade(std::int64_t candidateId, int grade);
    const RankedRow *rowAt(int row) const;
    int rowOf(std::int64_t candidateId) const; ///< -1 when absent

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    // Drag a candidate onto another: "the dragged one is better". Rows never move; the preference
    // is reported through preferenceDropped and the view's order stays the model's.
    Qt::ItemFlags flags(const QModelIndex &index) const override;
    Qt::DropActions supportedDropActions() const override;
    QStringList mimeTypes() const override;
    QMimeData *mimeData(const QModelIndexList &indexes) const override;
    bool canDropMimeData(const QMimeData *data, Qt::DropAction action, int row, int column,
                         const QModelIndex &parent) const override;
    bool dropMimeData(const QMimeData *data, Qt::DropAction action, int row, int column,
                      const QModelIndex &parent) override;

signals:
    void preferenceDropped(std::int64_t better, std::int64_t worse);

private:
    std::optional<std::int64_t> droppedCandidate(const QMimeData *data) const;
    class ThumbnailCache *m_thumbnails = nullptr;
    std::vector<RankedRow> m_rows;
};

} // namespace unirank::ui
