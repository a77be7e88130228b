// SPDX-License-Identifier: GPL-3.0-or-later
// What the Train tab asks for, as the unirank-cli command lines that do it: the training command
// (train sft / train align with --set for every setting that differs from the stage's default), the
// scoring of the new version for the Evaluate tab, and the shell text shown as "equivalent command".
// Pure functions, no widgets: tested directly.
#pragma once

#include <nlohmann/json.hpp>

#include <QString>
#include <QStringList>

namespace unirank::ui {

struct TrainRequest {
    enum class Stage { InstructionTuning, Alignment };
    Stage stage = Stage::InstructionTuning;
    QString method = QStringLiteral("pl-grpo"); ///< alignment: dpo | pl-grpo
    QString project;                            ///< project file
    QString collection;                         ///< empty: the project's only collection
    QString model;                              ///< base model folder (or a fully fine-tuned one)
    QString adapter;                            ///< alignment: the adapter to start from; empty: none
    QString output;                             ///< --adapter-out
    nlohmann::json overrides = nlohmann::json::object(); ///< settings that differ from the defaults
    int rounds = 1;                             ///< alignment rounds
    QString device = QStringLiteral("cpu");
    bool resume = false;

    /// "sft", or the alignment method: the kind a training run is recorded under.
    QString kind() const { return stage == Stage::InstructionTuning ? QStringLiteral("sft") : method; }
};

/// The stage's defaults (SftConfig, or AlignConfig::forMethod) as JSON.
nlohmann::json stageDefaults(const TrainRequest &request);

/// `train sft|align ...` for the runner (with --events).
QStringList trainArguments(const TrainRequest &request);
/// `score --project P --model-version V [--collection C]`: stores the version's run for Evaluate.
QStringList scoreArguments(const QString &project, const QString &collection, const QString &version, const QString &device);

/// A command line as a POSIX shell reads it: `program` then the arguments, each quoted when needed.
QString shellCommand(const QString &program, const QStringList &arguments);

/// A fresh output folder for a run: `<modelsFolder>/<kind>-<start>`, or with -2, -3, ... when that folder
/// or its checkpoints exist. `modelsFolder` is the project's (storage::Project::sideFolder("models")).
QString freshOutputFolder(const QString &modelsFolder, const QString &kind, const QString &startName);

} // namespace unirank::ui
