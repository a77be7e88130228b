// SPDX-License-Identifier: GPL-3.0-or-later
// What every training run of UniRank shares, named as Hugging Face TrainingArguments and PEFT
// LoraConfig name it (UniRank's own marked), and the JSON field tables the run configurations are read
// and written with (an unknown key, a wrong type or a bad value is an InputError naming file and key).
//
//   key                            default   meaning
//   max_steps                      -1        optimizer steps; -1: num_train_epochs decides
//   num_train_epochs               3
//   learning_rate                  2e-4      peak (after warmup)
//   per_device_train_batch_size    8         examples per forward
//   gradient_accumulation_steps    1
//   warmup_ratio                   0.1       of the steps, linear from 0
//   lr_scheduler_type              cosine    cosine | linear | constant (after warmup)
//   weight_decay                   0.0       AdamW's decoupled decay
//   adam_beta1 / adam_beta2        0.9 / 0.999
//   adam_epsilon                   1e-8
//   max_grad_norm                  1.0       clipping of the global L2 norm; 0: off
//   seed                           42        data order, dropout, adapter init, split, sampling
//   bf16                           false     autocast to bfloat16 (CPU with AVX-512 BF16, or CUDA)
//   gradient_checkpointing         false     recompute decoder activations in backward (less memory)
//   logging_steps                  1         metrics into the project every N steps
//   save_steps                     0         checkpoint every N steps; 0: at each epoch's end
//   save_total_limit               2         checkpoints kept besides the best one
//   eval_steps                     0         evaluate the selection queries every N steps; 0: at each
//                                            epoch's end (always after the last step)
//   full_finetune (UniRank)        false     train every text weight instead of LoRA adapters
//   r / lora_alpha / lora_dropout  8 / 16 / 0.05
//   target_modules                 q_proj k_proj v_proj o_proj gate_proj up_proj down_proj
//   use_rslora                     false
//   lora_vision (UniRank)          false     adapt the vision tower's matching layers too
//   relevance_threshold (UniRank)  1         graded label >= threshold is relevant
//   validation_split (UniRank)     0.2       share of queries held out
//   report_split (UniRank)         0.5       share of the held-out queries kept for reporting only: the
//                                            published checkpoint is chosen on the others (selection
//                                            queries) and its metrics are reported on these
//   max_candidates_per_query (UniRank) 16
#pragma once

#include "core/util/error.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cstdint>
#include <functional>
#include <string>
#include <utility>
#include <vector>

namespace unirank::training {

struct TrainingArguments {
    std::int64_t max_steps = -1;
    double num_train_epochs = 3;
    double learning_rate = 2e-4;
    std::int64_t per_device_train_batch_size = 8;
    std::int64_t gradient_accumulation_steps = 1;
    double warmup_ratio = 0.1;
    std::string lr_scheduler_type = "cosine";
    double weight_decay = 0.0;
    double adam_beta1 = 0.9, adam_beta2 = 0.999, adam_epsilon = 1e-8;
    double max_grad_norm = 1.0;
    std::uint64_t seed = 42;
    bool bf16 = false;
    bool gradient_checkpointing = false;
    std::int64_t logging_steps = 1;
    std::int64_t save_steps = 0;
    std::int64_t save_total_limit = 2;
    std::int64_t eval_steps = 0;

    bool full_finetune = false;
    std::int64_t r = 8;
    double lora_alpha = 16;
    double lora_dropout = 0.05;
    std::vector<std::string> target_modules{"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};
    bool use_rslora = false;
    bool lora_vision = false;

    int relevance_threshold = 1;
    double validation_split = 0.2;
    double report_split = 0.5;
    std::int64_t max_candidates_per_query = 16;

    /// Throws InputError naming `source` and the key.
    void validateArguments(const std::string &source) const;
};

/// A configuration's JSON keys: each reads into and writes from one member.
template <typename Config>
struct ConfigField {
    std::string key;
    std::function<void(Config &, const nlohmann::json &)> read;
    std::function<void(const Config &, nlohmann::json &)> write;
};

template <typename Config, typename T, typename Owner>
ConfigField<Config> configField(const char *key, T Owner::*member)
{
    return {key, [member](Config &c, const nlohmann::json &v) { c.*member = v.template get<T>(); },
            [member, key](const Config &c, nlohmann::json &j) { j[key] = c.*member; }};
}

/// The TrainingArguments keys, for a configuration that derives from it.
template <typename Config>
std::vector<ConfigField<Config>> trainingArgumentFields()
{
    using A = TrainingArguments;
    return {configField<Config>("max_steps", &A::max_steps),
            configField<Config>("num_train_epochs", &A::num_train_epochs),
            configField<Config>("learning_rate", &A::learning_rate),
            configField<Config>("per_device_train_batch_size", &A::per_device_train_batch_size),
            configField<Config>("gradient_accumulation_steps", &A::gradient_accumulation_steps),
            configField<Config>("warmup_ratio", &A::warmup_ratio),
            configField<Config>("lr_scheduler_type", &A::lr_scheduler_type),
            configField<Config>("weight_decay", &A::weight_decay),
            configField<Config>("adam_beta1", &A::adam_beta1),
            configField<Config>("adam_beta2", &A::adam_beta2),
            configField<Config>("adam_epsilon", &A::adam_epsilon),
            configField<Config>("max_grad_norm", &A::max_grad_norm),
            configField<Config>("seed", &A::seed),
            configField<Config>("bf16", &A::bf16),
            configField<Config>("gradient_checkpointing", &A::gradient_checkpointing),
            configField<Config>("logging_steps", &A::logging_steps),
            configField<Config>("save_steps", &A::save_steps),
            configField<Config>("save_total_limit", &A::save_total_limit),
            configField<Config>("eval_steps", &A::eval_steps),
            configField<Config>("full_finetune", &A::full_finetune),
            configField<Config>("r", &A::r),
            configField<Config>("lora_alpha", &A::lora_alpha),
            configField<Config>("lora_dropout", &A::lora_dropout),
            configField<Config>("target_modules", &A::target_modules),
            configField<Config>("use_rslora", &A::use_rslora),
            configField<Config>("lora_vision", &A::lora_vision),
            configField<Config>("relevance_threshold", &A::relevance_threshold),
            configField<Config>("validation_split", &A::validation_split),
            configField<Config>("report_split", &A::report_split),
            configField<Config>("max_candidates_per_query", &A::max_candidates_per_query)};
}

/// Overrides `config`'s defaults with the keys of `json`; unknown keys and wrong types are InputErrors.
template <typename Config>
void readConfigFields(Config &config, const std::vector<ConfigField<Config>> &fields, const nlohmann::json &json,
                      const std::string &source)
{
    if (!json.is_object())
        throw InputError(source + ": the training configuration must be a JSON object");
    for (const auto &[key, value] : json.items()) {
        const auto it = std::find_if(fields.begin(), fields.end(), [&](const auto &f) { return f.key == key; });
        if (it == fields.end())
            throw InputError(SourceLocation{source, 0, key}, "unknown setting");
        try {
            it->read(config, value);
        } catch (const nlohmann::json::exception &e) {
            throw InputError(SourceLocation{source, 0, key}, std::string("wrong type: ") + e.what());
        }
    }
}

template <typename Config>
nlohmann::json writeConfigFields(const Config &config, const std::vector<ConfigField<Config>> &fields)
{
    nlohmann::json j = nlohmann::json::object();
    for (const auto &f : fields)
        f.write(config, j);
    return j;
}

} // namespace unirank::training
