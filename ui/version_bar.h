// SPDX-License-Identifier: GPL-3.0-or-later
// The Rank tab's version bar: the model version that ranks (active), the one it is compared with, and
// "Score all queries" with its progress. The lists follow ProjectContext's catalog (no database read)
// whenever a project opens or its versions, active or compared version change; choosing a version sets
// it on the context; the button is enabled only with an active version.
//
// Threading: GUI thread. Errors: none of its own.
#pragma once

#include "ui/project_context.h"

#include <QWidget>

class QComboBox;
class QProgressBar;
class QPushButton;

namespace unirank::ui {

class VersionBar final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(VersionBar)

public:
    explicit VersionBar(ProjectContext &context, QWidget *parent = nullptr);

    QComboBox *activeCombo() const { return m_active; }
    QComboBox *compareCombo() const { return m_compare; }
    QPushButton *scoreAllButton() const { return m_scoreAll; }
    /// Shows a Score-all run's progress (queries done of total).
    void showProgress(int done, int total);
    void hideProgress();

signals:
    void scoreAllClicked();

private:
    void refresh();

    ProjectContext &m_context;
    QComboBox *m_active;
    QComboBox *m_compare;
    QPushButton *m_scoreAll;
    QProgressBar *m_progress;
};

} // namespace unirank::ui
