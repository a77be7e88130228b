// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/training/training_arguments.h"

namespace unirank::training {

void TrainingArguments::validateArguments(const std::string &source) const
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
    if (eval_steps < 0)
        fail("eval_steps", "must not be negative");
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
    if (report_split < 0 || report_split >= 1)
        fail("report_split", "must be in [0, 1)");
    if (max_candidates_per_query != 0 && max_candidates_per_query < 2)
        fail("max_candidates_per_query", "must be at least 2 (one positive, one negative), or 0 for no cap");
}

} // namespace unirank::training
