// SPDX-License-Identifier: GPL-3.0-or-later
// unirank-cli: the headless front end. Each subcommand lives in its own cmd_*.cpp and calls the same
// library functions as the GUI. Exit codes: 0 ok, 1 bad input, 2 internal error; errors go to stderr.
#include "cli_common.h"

#include <iostream>

int main(int argc, char **argv)
{
    using namespace unirank::cli;
    CLI::App app{"UniRank Studio command line: import, export, inspect and benchmark reranking projects",
                 "unirank-cli"};
    app.set_version_flag("--version", std::string("unirank-cli ") + UNIRANK_VERSION);
    app.require_subcommand(1);
    auto *bench = app.add_subcommand("bench", "Benchmarks (report ratios and rates measured in one run)");
    bench->require_subcommand(1);
#ifndef UNIRANK_CORE_ONLY
    addInitCommand(app);
    addMigrateCommand(app);
    addTeamCommand(app);
    addImportCommand(app);
    addExportCommand(app);
    addStatsCommand(app);
    addBenchStorageCommand(*bench);
    addScoreCommand(app);
    addEvalCommand(app);
    addBenchScoreCommand(*bench);
    addTokenizeCommand(app);
    addPreprocessCommand(app);
    addTrainCommand(app);
    addDemoCommand(app);
#endif
    addParityCommand(app);
    addMergeCommand(app);
    addRandomCheckpointCommand(app);
    addBenchModelCommand(*bench);
    addBenchTrainCommand(*bench);

    try {
        app.parse(argc, argv);
        return kExitOk;
    } catch (const CLI::Success &e) {
        return app.exit(e); // --help, --version
    } catch (const CLI::ParseError &e) {
        app.exit(e, std::cerr, std::cerr);
        return kExitBadInput;
    } catch (const CommandFailed &f) {
        return reportError(f.error);
    } catch (const unirank::InputError &e) {
        return reportError({unirank::ErrorKind::BadInput, e.what()});
    } catch (const std::exception &e) {
        // libtorch's errors carry a C++ backtrace after the message; the user needs the message.
        std::string message = e.what();
        if (const auto at = message.find("\nException raised from"); at != std::string::npos)
            message.resize(at);
        return reportError({unirank::ErrorKind::Internal, message});
    }
}
