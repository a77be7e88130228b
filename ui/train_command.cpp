// SPDX-License-Identifier: GPL-3.0-or-later
#include "ui/train_command.h"

#include "core/training/align_config.h"
#include "core/training/sft_config.h"

#include <QDir>
#include <QFileInfo>
#include <QRegularExpression>

namespace unirank::ui {

nlohmann::json stageDefaults(const TrainRequest &request)
{
    if (request.stage == TrainRequest::Stage::InstructionTuning)
        return training::SftConfig{}.toJson();
    return training::AlignConfig::forMethod(training::parseAlignMethod(request.method.toStdString())).toJson();
}

QStringList trainArguments(const TrainRequest &r)
{
    QStringList args{QStringLiteral("train")};
    const bool sft = r.stage == TrainRequest::Stage::InstructionTuning;
    args << (sft ? QStringLiteral("sft") : QStringLiteral("align"));
    args << QStringLiteral("--project") << r.project << QStringLiteral("--model") << r.model;
    if (!sft) {
        args << QStringLiteral("--method") << r.method;
        if (!r.adapter.isEmpty())
            args << QStringLiteral("--adapter") << r.adapter;
        if (r.rounds != 1)
            args << QStringLiteral("--rounds") << QString::number(r.rounds);
    }
    if (!r.collection.isEmpty())
        args << QStringLiteral("--collection") << r.collection;
    if (!r.output.isEmpty())
        args << QStringLiteral("--adapter-out") << r.output;
    for (const auto &[key, value] : r.overrides.items()) {
        // A string goes as it is (the CLI reads text that is not JSON as a string), anything else as JSON.
        const auto text = value.is_string() && nlohmann::json::parse(value.get<std::string>(), nullptr, false).is_discarded()
                              ? value.get<std::string>()
                              : value.dump();
        args << QStringLiteral("--set") << QString::fromStdString(key + "=" + text);
    }
    if (r.device != QLatin1String("cpu"))
        args << QStringLiteral("--device") << r.device;
    if (r.resume)
        args << QStringLiteral("--resume");
    args << QStringLiteral("--events");
    return args;
}

QStringList scoreArguments(const QString &project, const QString &collection, const QString &version, const QString &device)
{
    QStringList args{QStringLiteral("score"), QStringLiteral("--project"), project, QStringLiteral("--model-version"), version};
    if (!collection.isEmpty())
        args << QStringLiteral("--collection") << collection;
    if (device != QLatin1String("cpu"))
        args << QStringLiteral("--device") << device;
    return args;
}

QString shellCommand(const QString &program, const QStringList &arguments)
{
    static const QRegularExpression plain(QStringLiteral("^[A-Za-z0-9_./:=+,@%-]+$"));
    const auto quote = [](const QString &a) {
        if (!a.isEmpty() && plain.match(a).hasMatch())
            return a;
        auto q = a;
        q.replace(QLatin1Char('\''), QLatin1String("'\\''"));
        return QString(QLatin1Char('\'') + q + QLatin1Char('\''));
    };
    QStringList parts{quote(program)};
    for (const auto &a : arguments)
        parts << quote(a);
    return parts.join(QLatin1Char(' '));
}

QString freshOutputFolder(const QString &modelsFolder, const QString &kind, const QString &startName)
{
    const QString base = modelsFolder + QLatin1Char('/') + kind + QLatin1Char('-') + startName;
    QString candidate = base;
    for (int n = 2; QFileInfo::exists(candidate) || QFileInfo::exists(candidate + QStringLiteral(".checkpoints")); ++n)
        candidate = base + QLatin1Char('-') + QString::number(n);
    return candidate;
}

} // namespace unirank::ui
