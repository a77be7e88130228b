// SPDX-License-Identifier: GPL-3.0-or-later
// One candidate (or query) as a person judges it: the image, zoomable (Ctrl+wheel, +/- buttons, fit),
// above the full text. Used twice in the Label tab and as the Rank tab's detail pane. Images load on
// a pool thread; the newest request wins.
//
// Threading: GUI thread only.
#pragma once

#include <QWidget>

class QLabel;
class QScrollArea;
class QTextBrowser;

namespace unirank::ui {

class CandidateView final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(CandidateView)

public:
    explicit CandidateView(QWidget *parent = nullptr);

    void setTitle(const QString &title);
    /// Shows the candidate; an empty image path hides the image area, empty text hides the text.
    void show(const QString &id, const QString &text, const QString &imagePath);
    void clear();

    QString shownId() const { return m_id; }
    QString shownText() const;
    QString shownImage() const { return m_imagePath; }
    bool imageLoaded() const { return !m_image.isNull(); }
    double zoom() const { return m_zoom; } ///< 0: fit to the view
    void setZoom(double zoom);

signals:
    void imageReady();

protected:
    bool eventFilter(QObject *watched, QEvent *event) override;

private:
    void render();

    QLabel *m_title;
    QScrollArea *m_scroll;
    QLabel *m_picture;
    QTextBrowser *m_text;
    QString m_id, m_imagePath;
    QImage m_image;
    double m_zoom = 0;
    quint64 m_generation = 0;
};

} // namespace unirank::ui
