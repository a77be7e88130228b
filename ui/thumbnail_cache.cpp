// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/thumbnail_cache.h"

#include <QImageReader>
#include <QPointer>
#include <QThread>
#include <QThreadPool>

namespace unirank::ui {

ThumbnailCache::ThumbnailCache(int size, QObject *parent) : QObject(parent), m_size(size), m_cache(2000) {}

ThumbnailCache::~ThumbnailCache()
{
    // Workers only post back through a QPointer; nothing to wait for.
}

QPixmap ThumbnailCache::get(const QString &path)
{
    if (path.isEmpty())
        return {};
    if (const auto *p = m_cache.object(path))
        return *p;
    if (m_pending.contains(path) || m_failed.contains(path))
        return {};
    m_pending.insert(path);
    QPointer<ThumbnailCache> self(this);
    const int size = m_size;
    QThreadPool::globalInstance()->start([self, path, size] {
        QImageReader reader(path);
        reader.setAutoTransform(true);
        const auto full = reader.size();
        if (full.isValid() && (full.width() > size || full.height() > size))
            reader.setScaledSize(full.scaled(size, size, Qt::KeepAspectRatio));
        QImage image = reader.read();
        QMetaObject::invokeMethod(
            self.data(),
            [self, path, image = std::move(image)] {
                if (!self)
                    return;
                self->m_pending.remove(path);
                if (image.isNull()) {
                    self->m_failed.insert(path);
                    return;
                }
                self->m_cache.insert(path, new QPixmap(QPixmap::fromImage(image)));
                emit self->ready(path);
            },
            Qt::QueuedConnection);
    });
    return {};
}

} // namespace unirank::ui
