// SPDX-License-Identifier: GPL-3.0-or-later
// Scoring settings (device, dtype, threads, image-embedding cache size, batch size, the images' pixel
// budget), kept in QSettings
// (ScoringSettings). Applying them reloads the active version's model.
//
// Threading: GUI thread only.
#pragma once

#include "ui/scoring_service.h"

#include <QDialog>

class QComboBox;
class QSpinBox;

namespace unirank::ui {

class SettingsDialog final : public QDialog {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(SettingsDialog)

public:
    explicit SettingsDialog(QWidget *parent = nullptr);

    ScoringSettings settings() const;
    void setSettings(const ScoringSettings &settings);

private:
    QComboBox *m_device;
    QComboBox *m_dtype;
    QSpinBox *m_threads;
    QSpinBox *m_cache;
    QSpinBox *m_batch;
    QSpinBox *m_minPixels;
    QSpinBox *m_maxPixels;
};

} // namespace unirank::ui
