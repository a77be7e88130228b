// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/training/sft_config.h"

#include "core/util/error.h"

#include <functional>
#include <map>

namespace unirank::training {
namespace {

using Field = std::function<void(SftConfig &, const nlohmann::json &)>;
using Writer = std::function<void(const SftConfig &, nlohmann::json &)>;

template <typename T>
std::pair<Field, Writer> field(T SftConfig::*member, const char *key)
{
    return {[member](SftConfig &c, const nlohmann::json &v) { c.*member = v.get<T>(); },
            [member, key](const SftConfig &c, nlohmann::json &j) { j[key] = c.*member; }};
}

const std::vector<std::pair<std::string, std::pair<Field, Writer>>> &fields()
{
    static const std::vector<std::pair<std::string, std::pair<Field, Writer>>> all = {
        {"max_steps", field(&SftConfig::max_steps, "max_steps")},
        {"num_train_epochs", field(&SftConfig::num_train_epochs, "num_train_epochs")},
        {"learning_rate", field(&SftConfig::learning_rate, "learning_rate")},
        {"per_device_train_batch_size", field(&SftConfig::per_device_train_batch_size, "per_device_train_batch_size")},
        {"gradient_accumulation_steps", field(&SftConfig::gradient_accumulation_steps, "gradient_accumulation_steps")},
        {"warmup_ratio", field(&SftConfig::warmup_ratio, "warmup_ratio")},
        {"lr_scheduler_type", field(&SftConfig::lr_scheduler_type, "lr_scheduler_type")},
        {"weight_decay", field(&SftConfig::weight_decay, "weight_decay")},
        {"adam_beta1", field(&SftConfig::adam_beta1, "adam_beta1")},
        {"adam_beta2", field(&SftConfig::adam_beta2, "adam_beta2")},
        {"adam_epsilon", field(&SftConfig::adam_epsilon, "adam_epsilon")},
        {"max_grad_norm", field(&SftConfig::max_grad_norm, "max_grad_norm")},
        {"seed", field(&SftConfig::seed, "seed")},
        {"bf16", field(&SftConfig::bf16, "bf16")},
        {"gradient_checkpointing", field(&SftConfig::gradient_checkpointing, "gradient_checkpointing")},
        {"logging_steps", field(&SftConfig::logging_steps, "logging_steps")},
        {"save_steps", field(&SftConfig::save_steps, "save_steps")},
        {"save_total_limit", field(&SftConfig::save_total_limit, "save_total_limit")},
        {"full_finetune", field(&SftConfig::full_finetune, "full_finetune")},
        {"r", field(&SftConfig::r, "r")},
        {"lora_alpha", field(&SftConfig::lora_alpha, "lora_alpha")},
        {"lora_dropout", field(&SftConfig::lora_dropout, "lora_dropout")},
        {"target_modules", field(&SftConfig::target_modules, "target_modules")},
        {"use_rslora", field(&SftConfig::use_rslora, "use_rslora")},
        {"lora_vision", field(&SftConfig::lora_vision, "lora_vision")},
        {"relevance_threshold", field(&SftConfig::relevance_threshold, "relevance_threshold")},
        {"use_preferences", field(&SftConfig::use_preferences, "use_preferences")},
        {"first_stage_negatives", field(&SftConfig::first_stage_negatives, "first_stage_negatives")},
        {"validation_split", field(&SftConfig::validation_split, "validation_split")},
        {"negatives_per_positive", field(&SftConfig::negatives_per_positive, "negatives_per_positive")},
        {"max_candidates_per_query", field(&SftConfig::max_candidates_per_query, "max_candidates_per_query")},
        {"label_loss", field(&SftConfig::label_loss, "label_loss")},
        {"listwise_weight", field(&SftConfig::listwise_weight, "listwise_weight")},
    };
    return all;
}

} // namespace

SftConfig SftConfig::fromJson(const nlohmann::json &json, const std::string &source)
{
    if (!json.is_object())
        throw InputError(source + ": the training configuration must be a JSON object");
    SftConfig c;
    for (const auto &[key, value] : json.items()) {
        const auto &all = fields();
        const auto it = std::find_if(all.begin(), all.end(), [&](const auto &f) { return f.first == key; });
        if (it == all.end())
            throw InputError(SourceLocation{source, 0, key}, "unknown setting");
        try {
            it->second.first(c, value);
        } catch (const nlohmann::json::exception &e) {
            throw InputError(SourceLocation{source, 0, key}, std::string("wrong type: ") + e.what());
        }
    }
    c.validate(source);
    return c;
}

nlohmann::json SftConfig::toJson() const
{
    nlohmann::json j = nlohmann::json::object();
    for (const auto &[key, f] : fields())
        f.second(*this, j);
    return j;
}

void SftConfig::validate(const std::string &source) const
{
    const auto fail = [&](const char *key, const std::string &why) { throw InputError(SourceLocation{source, 0, key}, why); };
    if (max_steps == 0 || max_steps < -1)
        fail("max_steps", "must be positive, or -1 to train for num_train_epochs");
    if (max_steps == -1 && !(num_train_epochs > 0))
        fail("num_train_epochs", "must be positive");
    if (!(learning_rate > 0))
        fail("learning_rate", "must be positive");
    if (per_device_train_batch_size < 1)
        fail("per_device_train_batch_size", "must be at least 1");
    if (gradient_accumulation_steps < 1)
        fail("gradient_accumulation_steps", "must be at least 1");
    if (warmup_ratio < 0 || warmup_ratio >= 1)
        fail("warmup_ratio", "must be in [0, 1)");
    if (lr_scheduler_type != "cosine" && lr_scheduler_type != "linear" && lr_scheduler_type != "constant")
        fail("lr_scheduler_type", "must be cosine, linear or constant");
    if (weight_decay < 0)
        fail("weight_decay", "must not be negative");
    if (max_grad_norm < 0)
        fail("max_grad_norm", "must not be negative (0 turns clipping off)");
    if (logging_steps < 1)
        fail("logging_steps", "must be at least 1");
    if (save_steps < 0)
        fail("save_steps", "must not be negative");
    if (save_total_limit < 1)
        fail("save_total_limit", "must be at least 1");
    if (!full_finetune) {
        if (r < 1)
            fail("r", "must be at least 1");
        if (!(lora_alpha > 0))
            fail("lora_alpha", "must be positive");
        if (lora_dropout < 0 || lora_dropout >= 1)
            fail("lora_dropout", "must be in [0, 1)");
        if (target_modules.empty())
            fail("target_modules", "must name at least one layer");
    }
    if (validation_split < 0 || validation_split >= 1)
        fail("validation_split", "must be in [0, 1)");
    if (negatives_per_positive < 0)
        fail("negatives_per_positive", "must not be negative");
    if (max_candidates_per_query != 0 && max_candidates_per_query < 2)
        fail("max_candidates_per_query", "must be at least 2 (one positive, one negative), or 0 for no cap");
    if (label_loss != "label_tokens" && label_loss != "full_vocab")
        fail("label_loss", "must be label_tokens or full_vocab");
    if (listwise_weight < 0)
        fail("listwise_weight", "must not be negative");
}

} // namespace unirank::training
