// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/candidate_view.h"

#include <QEvent>
#include <QHBoxLayout>
#include <QImageReader>
#include <QLabel>
#include <QPointer>
#include <QScrollArea>
#include <QScrollBar>
#include <QTextBrowser>
#include <QThreadPool>
#include <QToolButton>
#include <QVBoxLayout>
#include <QWheelEvent>

namespace unirank::ui {

CandidateView::CandidateView(QWidget *parent)
    : QWidget(parent)
    , m_title(new QLabel(this))
    , m_scroll(new QScrollArea(this))
    , m_picture(new QLabel)
    , m_text(new QTextBrowser(this))
{
    auto *layout = new QVBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    auto *bar = new QHBoxLayout;
    m_title->setTextFormat(Qt::PlainText);
    QFont bold = m_title->font();
    bold.setBold(true);
    m_title->setFont(bold);
    bar->addWidget(m_title, 1);
    const auto button = [&](const QString &text, const QString &tip, auto f) {
        auto *b = new QToolButton(this);
        b->setText(text);
        b->setToolTip(tip);
        b->setFocusPolicy(Qt::NoFocus);
        connect(b, &QToolButton::clicked, this, f);
        bar->addWidget(b);
    };
    button(QStringLiteral("-"), tr("Zoom out (Ctrl+wheel)"), [this] { setZoom(std::max(0.1, (m_zoom > 0 ? m_zoom : 1.0) / 1.25)); });
    button(QStringLiteral("+"), tr("Zoom in (Ctrl+wheel)"), [this] { setZoom(std::min(8.0, (m_zoom > 0 ? m_zoom : 1.0) * 1.25)); });
    button(tr("Fit"), tr("Fit the image to the view"), [this] { setZoom(0); });
    layout->addLayout(bar);
    m_picture->setAlignment(Qt::AlignCenter);
    m_scroll->setWidget(m_picture);
    m_scroll->setAlignment(Qt::AlignCenter);
    m_scroll->setWidgetResizable(false);
    m_scroll->setFocusPolicy(Qt::NoFocus);
    m_scroll->viewport()->installEventFilter(this);
    m_text->setOpenExternalLinks(false);
    QFont readable = m_text->font();
    readable.setPointSizeF(readable.pointSizeF() * 1.25);
    m_text->setFont(readable);
    m_text->setFocusPolicy(Qt::NoFocus);
    layout->addWidget(m_scroll, 3);
    layout->addWidget(m_text, 2);
    clear();
}

void CandidateView::setTitle(const QString &title) { m_title->setText(title); }

QString CandidateView::shownText() const { return m_text->toPlainText(); }

void CandidateView::clear()
{
    m_id.clear();
    m_imagePath.clear();
    m_image = {};
    ++m_generation;
    m_picture->clear();
    m_text->clear();
    m_scroll->hide();
    m_text->hide();
}

void CandidateView::show(const QString &id, const QString &text, const QString &imagePath)
{
    m_id = id;
    m_text->setPlainText(text);
    m_text->setVisible(!text.isEmpty());
    m_imagePath = imagePath;
    m_image = {};
    m_picture->clear();
    m_scroll->setVisible(!imagePath.isEmpty());
    const auto generation = ++m_generation;
    if (imagePath.isEmpty())
        return;
    m_picture->setText(tr("loading..."));
    QPointer<CandidateView> self(this);
    QThreadPool::globalInstance()->start([self, imagePath, generation] {
        QImageReader reader(imagePath);
        reader.setAutoTransform(true);
        QImage image = reader.read();
        QString error = image.isNull() ? reader.errorString() : QString();
        QMetaObject::invokeMethod(
            self.data(),
            [self, generation, image = std::move(image), error] {
                if (!self || generation != self->m_generation)
                    return; // a newer candidate is shown
                self->m_image = image;
                if (image.isNull())
                    self->m_picture->setText(tr("cannot read the image: %1").arg(error));
                self->render();
                emit self->imageReady();
            },
            Qt::QueuedConnection);
    });
}

void CandidateView::setZoom(double zoom)
{
    m_zoom = zoom;
    render();
}

void CandidateView::render()
{
    if (m_image.isNull())
        return;
    QSize size;
    if (m_zoom <= 0) {
        const QSize room = m_scroll->viewport()->size() - QSize(4, 4);
        size = m_image.size().scaled(room.expandedTo({16, 16}), Qt::KeepAspectRatio);
    } else {
        size = m_image.size() * m_zoom;
    }
    m_picture->setPixmap(QPixmap::fromImage(m_image.scaled(size, Qt::KeepAspectRatio, Qt::SmoothTransformation)));
    m_picture->resize(m_picture->pixmap().size());
}

bool CandidateView::eventFilter(QObject *watched, QEvent *event)
{
    if (watched == m_scroll->viewport() && event->type() == QEvent::Resize && m_zoom <= 0)
        render(); // fit to the viewport's new size (also when a hidden tab is first shown)
    if (watched == m_scroll->viewport() && event->type() == QEvent::Wheel) {
        auto *wheel = static_cast<QWheelEvent *>(event);
        if (wheel->modifiers() & Qt::ControlModifier) {
            const double base = m_zoom > 0 ? m_zoom : 1.0;
            setZoom(std::clamp(wheel->angleDelta().y() > 0 ? base * 1.25 : base / 1.25, 0.1, 8.0));
            return true;
        }
    }
    return QWidget::eventFilter(watched, event);
}


} // namespace unirank::ui
