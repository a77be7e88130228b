// SPDX-License-Identifier: GPL-3.0-or-later
// Small previews of candidate images for item views. get() answers at once: the cached pixmap, or a
// null pixmap while the file is decoded and scaled on a pool thread; ready(path) follows, and views
// repaint the rows showing that file. Decoding never runs on the GUI thread.
//
// Threading: GUI thread only (the workers only produce QImages). Errors: an unreadable file stays a
// null pixmap and is not retried.
#pragma once

#include <QCache>
#include <QObject>
#include <QPixmap>
#include <QSet>

namespace unirank::ui {

class ThumbnailCache final : public QObject {
    Q_OBJECT

public:
    explicit ThumbnailCache(int size, QObject *parent = nullptr);
    ~ThumbnailCache() override;

    QPixmap get(const QString &path);
    int size() const { return m_size; }

signals:
    void ready(const QString &path);

private:
    int m_size;
    QCache<QString, QPixmap> m_cache;
    QSet<QString> m_pending, m_failed;
    int m_inFlight = 0;
};

} // namespace unirank::ui
