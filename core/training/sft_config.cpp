// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/training/sft_config.h"

namespace unirank::training {
namespace {

const std::vector<ConfigField<SftConfig>> &fields()
{
    static const auto all = [] {
        auto f = trainingArgumentFields<SftConfig>();
        f.push_back(configField<SftConfig>("use_preferences", &SftConfig::use_preferences));
        f.push_back(configField<SftConfig>("first_stage_negatives", &SftConfig::first_stage_negatives));
        f.push_back(configField<SftConfig>("negatives_per_positive", &SftConfig::negatives_per_positive));
        f.push_back(configField<SftConfig>("label_loss", &SftConfig::label_loss));
        f.push_back(configField<SftConfig>("listwise_weight", &SftConfig::listwise_weight));
        f.push_back(configField<SftConfig>("prompt_template", &SftConfig::prompt_template));
        return f;
    }();
    return all;
}

} // namespace

SftConfig SftConfig::fromJson(const nlohmann::json &json, const std::string &source)
{
    SftConfig c;
    readConfigFields(c, fields(), json, source);
    c.validate(source);
    return c;
}

nlohmann::json SftConfig::toJson() const { return writeConfigFields(*this, fields()); }

void SftConfig::validate(const std::string &source) const
{
    validateArguments(source);
    const auto fail = [&](const char *key, const std::string &why) { throw InputError(SourceLocation{source, 0, key}, why); };
    if (negatives_per_positive < 0)
        fail("negatives_per_positive", "must not be negative");
    if (label_loss != "label_tokens" && label_loss != "full_vocab")
        fail("label_loss", "must be label_tokens or full_vocab");
    if (listwise_weight < 0)
        fail("listwise_weight", "must not be negative");
}

} // namespace unirank::training
