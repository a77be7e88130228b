// SPDX-License-Identifier: GPL-3.0-or-later
// What every unirank-cli command shares: exit codes, error reporting, opening a project.
#pragma once

#include "core/util/error.h"

#include <CLI/CLI.hpp>

#include <filesystem>
#include <string>
#include <vector>
#include <memory>

namespace unirank::cli {

enum ExitCode : int {
    kExitOk = 0,
    kExitBadInput = 1, ///< the message on stderr says what and where
    kExitInternal = 2, ///< a bug, an I/O failure, or a project busy for longer than the timeout
};

/// Thrown by a command to end with an error already described; main() prints it and exits.
struct CommandFailed {
    Error error;
};

/// The folder with the demo data set and the shipped models (demo/, models/): $UNIRANK_RESOURCES, else
/// <executable>/../share/unirank-studio when installed, else the source tree's resources/ the program
/// was built from. Throws InputError naming the places looked at when none has them.
std::filesystem::path resourceDir();

/// Prints "unirank-cli: error: ..." on stderr and returns the exit code for the error's kind.
int reportError(const Error &error);

/// Unwraps a Result or throws CommandFailed.
template <typename T>
T require(Result<T> result)
{
    if (!result)
        throw CommandFailed{result.error()};
    if constexpr (!std::is_void_v<T>)
        return std::move(*result);
}

/// --min-pixels / --max-pixels (the images' pixel budget; 0 keeps the default, see scoring::PixelBudget).
void addPixelBudgetOptions(CLI::App &cmd, std::int64_t &minPixels, std::int64_t &maxPixels);
/// "tiny" and the model presets of core/model/presets.h, for --preset of the benchmarks.
std::vector<std::string> benchPresets();

// Each command registers its subcommand; the callback runs the command. Project commands need
// storage (absent from a UNIRANK_CORE_ONLY build); model commands need libtorch.
void addInitCommand(CLI::App &app);
void addMigrateCommand(CLI::App &app);
void addTeamCommand(CLI::App &app);
void addImportCommand(CLI::App &app);
void addExportCommand(CLI::App &app);
void addStatsCommand(CLI::App &app);
void addBenchStorageCommand(CLI::App &bench);
void addScoreCommand(CLI::App &app);
void addEvalCommand(CLI::App &app);
void addBenchScoreCommand(CLI::App &bench);
void addTokenizeCommand(CLI::App &app);
void addPreprocessCommand(CLI::App &app);
void addParityCommand(CLI::App &app);
void addBenchModelCommand(CLI::App &bench);
void addBenchTrainCommand(CLI::App &bench);
void addTrainCommand(CLI::App &app);
void addMergeCommand(CLI::App &app);
void addRandomCheckpointCommand(CLI::App &app);
void addDemoCommand(CLI::App &app);

} // namespace unirank::cli
