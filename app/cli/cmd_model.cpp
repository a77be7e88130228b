// SPDX-License-Identifier: GPL-3.0-or-later
// unirank-cli parity --model DIR --golden DIR [--device cpu|cuda] [--dtype fp32|bf16|fp16] [--json]
//                    [--dump DIR]
//
// Runs the model on every golden case and prints the max absolute difference of every stored tensor;
// exits 1 when one is past its tolerance (see core/model/parity.h for how tolerances are derived).
#include "cli_common.h"

#include "core/model/loader.h"
#include "core/model/parity.h"

#include <nlohmann/json.hpp>

#include <iostream>

namespace unirank::cli {

void addParityCommand(CLI::App &app)
{
    struct Args {
        std::string model, golden, device = "cpu", dtype = "fp32", dump;
        bool json = false;
    };
    auto a = std::make_shared<Args>();
    auto *cmd = app.add_subcommand("parity", "Compare the model with reference outputs of a golden folder");
    cmd->add_option("--model", a->model, "Checkpoint folder (config.json + *.safetensors)")->required();
    cmd->add_option("--golden", a->golden, "Golden folder (cases_*/index.json, tolerances.json)")->required();
    cmd->add_option("--device", a->device, "cpu or cuda[:N]");
    cmd->add_option("--dtype", a->dtype, "fp32, bf16 or fp16");
    cmd->add_flag("--json", a->json, "Print the report as JSON");
    cmd->add_option("--dump", a->dump, "Also write our own tensors of each case to DIR/CASE.ours.safetensors");
    cmd->callback([a] {
        const auto device = model::parseDevice(a->device);
        const auto dtype = model::parseDtype(a->dtype);
        const auto report = require(model::runParity(a->model, a->golden, device, dtype, [](const std::string &line) {
            std::cerr << line << "\n";
        }, a->dump));
        if (a->json)
            std::cout << report.toJson().dump(1) << "\n";
        else
            std::cout << report.toText();
        if (!report.ok())
            throw CommandFailed{{ErrorKind::BadInput, "some tensors are past their tolerance"}};
    });
}

} // namespace unirank::cli
