// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/version_bar.h"

#include <QComboBox>
#include <QHBoxLayout>
#include <QLabel>
#include <QProgressBar>
#include <QPushButton>

#include <algorithm>

namespace unirank::ui {
namespace {

constexpr qlonglong kFirstStage = -1;

std::optional<std::int64_t> versionFromCombo(const QComboBox *combo)
{
    const auto v = combo->currentData().toLongLong();
    return v == kFirstStage ? std::nullopt : std::optional<std::int64_t>(v);
}

} // namespace

VersionBar::VersionBar(ProjectContext &context, QWidget *parent)
    : QWidget(parent), m_context(context), m_active(new QComboBox(this)), m_compare(new QComboBox(this)),
      m_scoreAll(new QPushButton(tr("Score all queries"), this)), m_progress(new QProgressBar(this))
{
    m_progress->setVisible(false);
    m_progress->setMaximumWidth(200);
    auto *layout = new QHBoxLayout(this);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(new QLabel(tr("Model version:"), this));
    layout->addWidget(m_active, 1);
    layout->addWidget(new QLabel(tr("Compare with:"), this));
    layout->addWidget(m_compare, 1);
    layout->addWidget(m_scoreAll);
    layout->addWidget(m_progress);

    connect(m_active, &QComboBox::activated, this, [this] { m_context.setActiveVersion(versionFromCombo(m_active)); });
    connect(m_compare, &QComboBox::activated, this, [this] { m_context.setCompareVersion(versionFromCombo(m_compare)); });
    connect(m_scoreAll, &QPushButton::clicked, this, &VersionBar::scoreAllClicked);
    for (const auto signal : {&ProjectContext::projectOpened, &ProjectContext::projectClosed, &ProjectContext::versionsChanged,
                              &ProjectContext::activeVersionChanged, &ProjectContext::compareVersionChanged})
        connect(&m_context, signal, this, &VersionBar::refresh);
    refresh();
}

void VersionBar::showProgress(int done, int total)
{
    m_progress->setRange(0, total);
    m_progress->setValue(done);
    m_progress->show();
}

void VersionBar::hideProgress()
{
    m_progress->hide();
}

void VersionBar::refresh()
{
    for (auto *combo : {m_active, m_compare}) {
        const QSignalBlocker block(combo);
        combo->clear();
        combo->addItem(tr("first stage"), kFirstStage);
        if (!m_context.isOpen())
            continue;
        for (const auto &v : m_context.versions())
            combo->addItem(QStringLiteral("%1 (%2)").arg(QString::fromStdString(v.name), QString::fromUtf8(toString(v.kind).data())),
                           qlonglong(v.id));
    }
    const auto select = [](QComboBox *combo, std::optional<std::int64_t> v) {
        const QSignalBlocker block(combo);
        combo->setCurrentIndex(std::max(0, combo->findData(v ? qlonglong(*v) : kFirstStage)));
    };
    select(m_active, m_context.activeVersion());
    select(m_compare, m_context.compareVersion());
    m_scoreAll->setEnabled(m_context.isOpen() && m_context.activeVersion().has_value());
}

} // namespace unirank::ui
