// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/hyperparameter_form.h"

#include "core/training/setting_docs.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDoubleValidator>
#include <QFormLayout>
#include <QGroupBox>
#include <QLabel>
#include <QLineEdit>
#include <QSpinBox>
#include <QVBoxLayout>

#include <climits>

namespace unirank::ui {
namespace {

QString shown(const nlohmann::json &v)
{
    if (v.is_string())
        return QString::fromStdString(v.get<std::string>());
    if (v.is_array()) {
        QStringList parts;
        for (const auto &e : v)
            parts << (e.is_string() ? QString::fromStdString(e.get<std::string>()) : QString::fromStdString(e.dump()));
        return parts.join(QLatin1Char(' '));
    }
    if (v.is_number_float()) {
        return QString::number(v.get<double>(), 'g', 10);
    }
    return QString::fromStdString(v.dump());
}

} // namespace

HyperparameterForm::HyperparameterForm(QWidget *parent) : QWidget(parent), m_layout(new QVBoxLayout(this))
{
    m_layout->setContentsMargins(0, 0, 0, 0);
}

void HyperparameterForm::setSchema(const nlohmann::json &defaults, unsigned scope)
{
    delete m_body;
    m_rows.clear();
    m_order.clear();
    m_body = new QWidget(this);
    auto *body = new QVBoxLayout(m_body);
    body->setContentsMargins(0, 0, 0, 0);
    m_layout->addWidget(m_body);

    std::map<std::string, QFormLayout *> groups;
    const auto groupFor = [&](const std::string &name) {
        if (auto it = groups.find(name); it != groups.end())
            return it->second;
        auto *box = new QGroupBox(QString::fromStdString(name), m_body);
        auto *form = new QFormLayout(box);
        form->setFieldGrowthPolicy(QFormLayout::AllNonFixedFieldsGrow);
        body->addWidget(box);
        return groups[name] = form;
    };
    for (const auto &doc : training::settingDocs()) {
        if (!(doc.scope & scope) || !defaults.contains(doc.key))
            continue;
        const auto &def = defaults.at(doc.key);
        Row row;
        row.defaultValue = def;
        if (def.is_boolean()) {
            auto *box = new QCheckBox(m_body);
            connect(box, &QCheckBox::toggled, this, &HyperparameterForm::markChanged);
            row.editor = box;
        } else if (def.is_number_integer()) {
            auto *spin = new QSpinBox(m_body);
            spin->setRange(doc.key == "max_steps" ? -1 : 0, INT_MAX);
            connect(spin, &QSpinBox::valueChanged, this, &HyperparameterForm::markChanged);
            row.editor = spin;
        } else if (def.is_string() && !doc.choices.empty()) {
            auto *combo = new QComboBox(m_body);
            for (const auto &c : doc.choices)
                combo->addItem(QString::fromStdString(c));
            connect(combo, &QComboBox::currentIndexChanged, this, &HyperparameterForm::markChanged);
            row.editor = combo;
        } else {
            auto *edit = new QLineEdit(m_body);
            if (def.is_number()) {
                auto *validator = new QDoubleValidator(edit);
                validator->setLocale(QLocale::c()); // the value is read with the C locale too
                edit->setValidator(validator);
            }
            connect(edit, &QLineEdit::textChanged, this, &HyperparameterForm::markChanged);
            row.editor = edit;
        }
        row.editor->setObjectName(QString::fromStdString(doc.key));
        const auto tip = QStringLiteral("<b>%1</b><br>%2<br><i>Default: %3</i>")
                             .arg(QString::fromStdString(doc.key), QString::fromStdString(doc.help).toHtmlEscaped(),
                                  shown(def).toHtmlEscaped());
        row.editor->setToolTip(tip);
        row.label = new QLabel(QString::fromStdString(doc.key), m_body);
        row.label->setToolTip(tip);
        groupFor(doc.group)->addRow(row.label, row.editor);
        auto &stored = m_rows[doc.key] = row;
        m_order.push_back(doc.key);
        setEditorValue(stored, def);
    }
    body->addStretch(1);
    markChanged();
}

void HyperparameterForm::setEditorValue(Row &row, const nlohmann::json &value)
{
    const QSignalBlocker block(row.editor);
    if (auto *box = qobject_cast<QCheckBox *>(row.editor))
        box->setChecked(value.is_boolean() && value.get<bool>());
    else if (auto *spin = qobject_cast<QSpinBox *>(row.editor))
        spin->setValue(value.is_number() ? static_cast<int>(value.get<double>()) : 0);
    else if (auto *combo = qobject_cast<QComboBox *>(row.editor))
        combo->setCurrentText(shown(value));
    else if (auto *edit = qobject_cast<QLineEdit *>(row.editor))
        edit->setText(shown(value));
}

nlohmann::json HyperparameterForm::valueOf(const Row &row, bool *ok) const
{
    if (ok)
        *ok = true;
    const auto &def = row.defaultValue;
    if (auto *box = qobject_cast<QCheckBox *>(row.editor))
        return box->isChecked();
    if (auto *spin = qobject_cast<QSpinBox *>(row.editor)) {
        if (def.is_number_unsigned())
            return static_cast<std::uint64_t>(std::max(0, spin->value()));
        return static_cast<std::int64_t>(spin->value());
    }
    if (auto *combo = qobject_cast<QComboBox *>(row.editor))
        return combo->currentText().toStdString();
    const auto text = qobject_cast<QLineEdit *>(row.editor)->text().trimmed();
    if (def.is_number()) {
        bool parsed = false;
        const double v = QLocale::c().toDouble(text, &parsed);
        if (ok)
            *ok = parsed;
        return parsed ? nlohmann::json(v) : def;
    }
    if (def.is_array()) {
        auto out = nlohmann::json::array();
        for (const auto &part : text.split(QLatin1Char(' '), Qt::SkipEmptyParts))
            out.push_back(part.toStdString());
        return out;
    }
    return text.toStdString();
}

void HyperparameterForm::setValues(const nlohmann::json &values)
{
    for (auto &[key, row] : m_rows)
        if (values.contains(key))
            setEditorValue(row, values.at(key));
    markChanged();
}

void HyperparameterForm::resetToDefaults()
{
    for (auto &entry : m_rows)
        setEditorValue(entry.second, entry.second.defaultValue);
    markChanged();
}

nlohmann::json HyperparameterForm::values() const
{
    auto out = nlohmann::json::object();
    for (const auto &key : m_order)
        out[key] = valueOf(m_rows.at(key));
    return out;
}

nlohmann::json HyperparameterForm::overrides() const
{
    auto out = nlohmann::json::object();
    for (const auto &key : m_order) {
        const auto &row = m_rows.at(key);
        const auto v = valueOf(row);
        const bool same = v.is_number() && row.defaultValue.is_number() ? v.get<double>() == row.defaultValue.get<double>()
                                                                        : v == row.defaultValue;
        if (!same)
            out[key] = v;
    }
    return out;
}

bool HyperparameterForm::isValid() const
{
    for (const auto &entry : m_rows) {
        bool ok = true;
        valueOf(entry.second, &ok);
        if (!ok)
            return false;
    }
    return true;
}

QStringList HyperparameterForm::keys() const
{
    QStringList out;
    for (const auto &k : m_order)
        out << QString::fromStdString(k);
    return out;
}

QWidget *HyperparameterForm::editor(const QString &key) const
{
    const auto it = m_rows.find(key.toStdString());
    return it == m_rows.end() ? nullptr : it->second.editor;
}

void HyperparameterForm::markChanged()
{
    const auto differing = overrides();
    for (auto &[key, row] : m_rows) {
        bool ok = true;
        valueOf(row, &ok);
        auto font = row.label->font();
        font.setBold(differing.contains(key));
        row.label->setFont(font);
        row.editor->setStyleSheet(ok ? QString() : QStringLiteral("background: #fdd"));
    }
    emit changed();
}

} // namespace unirank::ui
