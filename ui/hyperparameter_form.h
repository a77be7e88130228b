// SPDX-License-Identifier: GPL-3.0-or-later
// The Train tab's settings form: one editor per setting of the chosen stage (the keys and defaults of
// its configuration, the words and groups of core/training/setting_docs), each with a tooltip that
// says what it means and what its default is. A setting changed from its default shows in bold;
// overrides() is exactly what differs, so the command line names only those.
//
// Threading: GUI thread. Errors: a number field that does not parse is marked and makes isValid() false.
#pragma once

#include <nlohmann/json.hpp>

#include <QWidget>

#include <map>

class QLabel;
class QVBoxLayout;

namespace unirank::ui {

class HyperparameterForm final : public QWidget {
    Q_OBJECT
    Q_DISABLE_COPY_MOVE(HyperparameterForm)

public:
    explicit HyperparameterForm(QWidget *parent = nullptr);

    /// Rebuilds the form for these defaults; `scope` is a training::SettingScope bit (which runs).
    void setSchema(const nlohmann::json &defaults, unsigned scope);
    /// Sets the editors of the keys present (unknown keys are ignored); the rest keep their values.
    void setValues(const nlohmann::json &values);
    void resetToDefaults();

    nlohmann::json values() const;    ///< every setting shown
    nlohmann::json overrides() const; ///< the settings that differ from their default
    bool isValid() const;
    QStringList keys() const;
    /// The editor of `key` (tests drive it like a user); null when not shown.
    QWidget *editor(const QString &key) const;

signals:
    void changed();

private:
    struct Row {
        nlohmann::json defaultValue;
        QLabel *label = nullptr;
        QWidget *editor = nullptr;
    };
    nlohmann::json valueOf(const Row &row, bool *ok = nullptr) const;
    void setEditorValue(Row &row, const nlohmann::json &value);
    void markChanged();

    QVBoxLayout *m_layout;
    QWidget *m_body = nullptr;
    std::map<std::string, Row> m_rows;
    std::vector<std::string> m_order;
};

} // namespace unirank::ui
