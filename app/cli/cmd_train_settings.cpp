// SPDX-License-Identifier: GPL-3.0-or-later
// unirank-cli train settings [--method sft|dpo|pl-grpo] [--json]
//
// Every setting of a training stage with its default for that stage and what it means (the table the
// Train tab builds its form from). --json prints [{"key", "default", "group", "help", "choices"}].
#include "cli_training.h"

#include "core/training/align_config.h"
#include "core/training/setting_docs.h"
#include "core/training/sft_config.h"

#include <iomanip>
#include <iostream>

namespace unirank::cli {
namespace {

void listSettings(const std::string &method, bool json)
{
    const bool sft = method == "sft";
    const auto defaults = sft ? training::SftConfig{}.toJson()
                              : training::AlignConfig::forMethod(training::parseAlignMethod(method)).toJson();
    const unsigned scope = sft ? training::kScopeSft : method == "dpo" ? training::kScopeDpo : training::kScopePlGrpo;
    nlohmann::json out = nlohmann::json::array();
    for (const auto &doc : training::settingDocs()) {
        if (!(doc.scope & scope) || !defaults.contains(doc.key))
            continue;
        out.push_back({{"key", doc.key}, {"default", defaults.at(doc.key)}, {"group", doc.group}, {"help", doc.help},
                       {"choices", doc.choices}});
    }
    if (json) {
        std::cout << out.dump() << "\n";
        return;
    }
    std::string group;
    for (const auto &s : out) {
        if (s["group"] != group) {
            group = s["group"];
            std::cout << (group == out.front()["group"] ? "" : "\n") << group << "\n";
        }
        std::cout << "  " << std::left << std::setw(30) << s["key"].get<std::string>() << std::setw(14) << s["default"].dump() << " "
                  << s["help"].get<std::string>() << "\n";
    }
}

} // namespace

void addSettingsSubcommand(CLI::App &train)
{
    auto method = std::make_shared<std::string>("sft");
    auto json = std::make_shared<bool>(false);
    auto *cmd = train.add_subcommand("settings", "List every training setting of a stage with its default and meaning");
    cmd->add_option("--method", *method, "sft (instruction tuning), dpo or pl-grpo (alignment)")
        ->check(CLI::IsMember({"sft", "dpo", "pl-grpo"}));
    cmd->add_flag("--json", *json, "One JSON array of {key, default, group, help, choices}");
    cmd->callback([method, json] { listSettings(*method, *json); });
}

} // namespace unirank::cli
