// SPDX-License-Identifier: GPL-3.0-or-later
// Every hyperparameter of an instruction-tuning run, read from and written to JSON with the names of
// Hugging Face TrainingArguments and PEFT LoraConfig where one exists; UniRank's own are marked.
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
//   seed                           42        data order, dropout, adapter init, split
//   bf16                           false     autocast to bfloat16 (CPU with AVX-512 BF16, or CUDA)
//   gradient_checkpointing         false     recompute decoder activations in backward (less memory)
//   logging_steps                  1         metrics into the project every N steps
//   save_steps                     0         checkpoint every N steps; 0: at each epoch's end
//   save_total_limit               2         checkpoints kept besides the best one
//   full_finetune (UniRank)        false     train every text weight instead of LoRA adapters
//   r / lora_alpha / lora_dropout  8 / 16 / 0.05
//   target_modules                 q_proj k_proj v_proj o_proj gate_proj up_proj down_proj
//   use_rslora                     false
//   lora_vision (UniRank)          false     adapt the vision tower's matching layers too
//   relevance_threshold (UniRank)  1         graded label >= threshold is "yes"
//   use_preferences (UniRank)      true      pairwise preferences add yes/no items
//   first_stage_negatives (UniRank) true     unjudged first-stage candidates are "no"
//   validation_split (UniRank)     0.2       share of queries held out
//   negatives_per_positive (UniRank) 1.0     class balance within a query; 0: keep all
//   max_candidates_per_query (UniRank) 16
//   label_loss (UniRank)           label_tokens   label_tokens: softmax over yes/no; full_vocab: over all
//   listwise_weight (UniRank)      0.0       weight of a softmax-over-the-group term on the margins
//
// Errors: InputError naming the file and key for an unknown key, a wrong type or a bad value.
#pragma once

#include <nlohmann/json.hpp>

#include <cstdint>
#include <string>
#include <vector>

namespace unirank::training {

struct SftConfig {
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

    bool full_finetune = false;
    std::int64_t r = 8;
    double lora_alpha = 16;
    double lora_dropout = 0.05;
    std::vector<std::string> target_modules{"q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj"};
    bool use_rslora = false;
    bool lora_vision = false;

    int relevance_threshold = 1;
    bool use_preferences = true;
    bool first_stage_negatives = true;
    double validation_split = 0.2;
    double negatives_per_positive = 1.0;
    std::int64_t max_candidates_per_query = 16;
    std::string label_loss = "label_tokens";
    double listwise_weight = 0.0;

    /// Overrides the defaults with the keys present; `source` names the file in errors.
    static SftConfig fromJson(const nlohmann::json &json, const std::string &source);
    nlohmann::json toJson() const;
    void validate(const std::string &source) const; ///< throws InputError
};

} // namespace unirank::training
