// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/settings_dialog.h"

#include <QComboBox>
#include <QDialogButtonBox>
#include <QFormLayout>
#include <QSpinBox>
#include <QThread>

namespace unirank::ui {

SettingsDialog::SettingsDialog(QWidget *parent)
    : QDialog(parent)
    , m_device(new QComboBox(this))
    , m_dtype(new QComboBox(this))
    , m_threads(new QSpinBox(this))
    , m_cache(new QSpinBox(this))
    , m_batch(new QSpinBox(this))
    , m_minPixels(new QSpinBox(this))
    , m_maxPixels(new QSpinBox(this))
{
    setWindowTitle(tr("Settings"));
    m_device->addItem(tr("CPU"), QStringLiteral("cpu"));
    if (ScoringService::cudaAvailable())
        m_device->addItem(tr("CUDA GPU"), QStringLiteral("cuda"));
    m_dtype->addItem(QStringLiteral("fp32"), QStringLiteral("fp32"));
    m_dtype->addItem(QStringLiteral("bf16"), QStringLiteral("bf16"));
    m_dtype->addItem(QStringLiteral("fp16 (CUDA)"), QStringLiteral("fp16"));
    m_threads->setRange(0, 4 * QThread::idealThreadCount());
    m_threads->setSpecialValueText(tr("automatic"));
    m_cache->setRange(0, 65536);
    m_cache->setSuffix(tr(" MiB"));
    m_batch->setRange(1, 1024);
    for (auto *box : {m_minPixels, m_maxPixels}) {
        box->setRange(0, 100000);
        box->setSuffix(tr(" kilopixels"));
        box->setSpecialValueText(tr("model default"));
    }
    m_minPixels->setToolTip(tr("Smallest image area; images are enlarged to it. Default: the model folder's."));
    m_maxPixels->setToolTip(tr("Largest image area; larger images are shrunk to it (visual tokens = pixels / 784). "
                               "Default: the model folder's, at most 1003 kilopixels (1280 visual tokens). "
                               "It changes the scores."));
    auto *form = new QFormLayout(this);
    form->addRow(tr("Device"), m_device);
    form->addRow(tr("Precision"), m_dtype);
    form->addRow(tr("CPU threads"), m_threads);
    form->addRow(tr("Image embedding cache"), m_cache);
    form->addRow(tr("Candidates per batch"), m_batch);
    form->addRow(tr("Smallest image"), m_minPixels);
    form->addRow(tr("Largest image"), m_maxPixels);
    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel, this);
    connect(buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);
    form->addRow(buttons);
    setSettings(ScoringSettings::load());
}

ScoringSettings SettingsDialog::settings() const
{
    ScoringSettings s;
    s.device = m_device->currentData().toString();
    s.dtype = m_dtype->currentData().toString();
    s.threads = m_threads->value();
    s.cacheMiB = m_cache->value();
    s.batchSize = m_batch->value();
    s.minKilopixels = m_minPixels->value();
    s.maxKilopixels = m_maxPixels->value();
    return s;
}

void SettingsDialog::setSettings(const ScoringSettings &s)
{
    m_device->setCurrentIndex(std::max(0, m_device->findData(s.device)));
    m_dtype->setCurrentIndex(std::max(0, m_dtype->findData(s.dtype)));
    m_threads->setValue(s.threads);
    m_cache->setValue(s.cacheMiB);
    m_batch->setValue(s.batchSize);
    m_minPixels->setValue(s.minKilopixels);
    m_maxPixels->setValue(s.maxKilopixels);
}

} // namespace unirank::ui
