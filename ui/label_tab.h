// SPDX-License-Identifier: GPL-3.0-or-later
// The Label tab: pairwise preferences at keyboard speed. The query on top, two candidates side by
// side (sides randomised by the queue, the shown order stored with the label). Keys: Left/1 = left
// better, Right/2 = right better, T = tie, 0 = both irrelevant, Space = skip; Ctrl+Z / Ctrl+Shift+Z
// (the main window's Edit menu) undo and redo through the project's label history, and an undone
// pair is shown again. The queue (labeling::PairQueue) draws hard negatives, uncertain pairs,
// disagreements between the active and the comparison version, and random pairs, never the same pair
// twice for one annotator; a share is re-served from other annotators for agreement.
//
// A key press shows the next pair at once; the label is "Saving ..." until the project's label
// service acknowledges it ("Saved"), and a write that fails for good brings its pair back on screen.
//
// Threading: GUI thread; the queue's input is read on a pool thread, labels are written on the label
// service's thread. Errors: in the status line.
#pragma once

#include "core/labeling/pair_queue.h"
#include "storage/browse.h"
#include "ui/project_context.h"

#include <QWidget>

#include <deque>
#include <map>

class QLabel;
class QPushButton;

namespace unirank::ui {

class CandidateView;

class LabelTab final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(LabelTab)

public:
    explicit LabelTab(ProjectContext &context, QWidget *parent = nullptr);
    ~LabelTab() override;

    /// Rebuilds the queue from the project in the background (queueReady follows).
    void rebuildQueue();
    void setQueueOptions(const labeling::PairQueueOptions &options); ///< saved in QSettings, rebuilds
    /// Reads who judged what again (other analysts' labels arrived) without touching the pair shown:
    /// pairs others judged meanwhile leave the queue or become agreement pairs. judgedRefreshed follows.
    void refreshJudged();
    labeling::PairQueueOptions queueOptions() const { return m_options; }

    const std::optional<labeling::QueuedPair> &currentPair() const { return m_current; }
    bool judge(PairOutcome outcome); ///< queues the shown pair's label; false when nothing was queued
    void skip();
    int sessionCount() const { return m_sessionCount; }
    bool isReady() const { return m_queue != nullptr; }

    CandidateView *leftView() const { return m_left; }
    CandidateView *rightView() const { return m_right; }
    QString statusText() const;
    QString progressText() const;

signals:
    void queueReady();
    void pairShown();
    void queueExhausted();
    void labelWritten(std::int64_t labelId); ///< committed
    void judgedRefreshed(int pairsJudgedByOthers);

protected:
    void showEvent(QShowEvent *event) override;

private:
    QString annotatorPrompt() const;
    void showPair();
    void advance();
    /// A team project: claims `pair` on a pool thread (storage/pair_claims.h) and shows it when this
    /// analyst got it; a pair another analyst has on screen or judged meanwhile is skipped.
    void claimThenShow(const labeling::QueuedPair &pair);
    void updateProgress();
    void setStatus(const QString &text);
    void editOptions();
    void onSaved(quint64 ticket, std::int64_t labelId);
    void onFailed(quint64 ticket, const QString &message);

    ProjectContext &m_context;
    QLabel *m_annotator;
    QLabel *m_query;
    QLabel *m_queryImage;
    CandidateView *m_left;
    CandidateView *m_right;
    QLabel *m_progress;
    QLabel *m_status;
    QPushButton *m_optionsButton;

    labeling::PairQueueOptions m_options;
    std::unique_ptr<labeling::PairQueue> m_queue;
    std::optional<labeling::QueuedPair> m_current;
    std::deque<labeling::QueuedPair> m_upcoming;           ///< pairs to show before drawing again (after undo)
    std::map<std::int64_t, labeling::QueuedPair> m_written; ///< this session's pair labels by id
    struct Saving {
        labeling::QueuedPair pair;
        PairOutcome outcome;
    };
    std::map<quint64, Saving> m_saving; ///< written, not yet acknowledged, by ticket
    int m_sessionCount = 0;
    std::int64_t m_collection = 0;
    quint64 m_queueGeneration = 0; ///< the newest queue build; older answers are dropped
    quint64 m_judgedGeneration = 0; ///< the newest refreshJudged read
    quint64 m_claimGeneration = 0;  ///< the newest pair claim; older answers are dropped
    int m_skippedByClaims = 0;      ///< pairs another analyst had (this session)
    int m_judgedByOthers = 0;
};

} // namespace unirank::ui
