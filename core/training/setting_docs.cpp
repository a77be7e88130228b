// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/training/setting_docs.h"

#include <algorithm>

namespace unirank::training {

const std::vector<SettingDoc> &settingDocs()
{
    static const std::vector<SettingDoc> docs{
        // Schedule
        {"num_train_epochs", "Schedule", "Passes over the training queries (fractions allowed). max_steps, when set, wins.", kScopeAll, {}},
        {"max_steps", "Schedule", "Optimizer steps to run; -1 lets num_train_epochs decide.", kScopeAll, {}},
        {"learning_rate", "Schedule", "Peak learning rate, reached after the warmup.", kScopeAll, {}},
        {"lr_scheduler_type", "Schedule", "Shape of the learning rate after the warmup.", kScopeAll, {"cosine", "linear", "constant"}},
        {"warmup_ratio", "Schedule", "Share of the steps over which the learning rate rises linearly from 0.", kScopeAll, {}},
        {"per_device_train_batch_size", "Schedule",
         "Examples per forward pass: candidates (instruction tuning), preference pairs (DPO) or queries (PL-GRPO).", kScopeAll, {}},
        {"gradient_accumulation_steps", "Schedule", "Forward passes whose gradients are summed into one optimizer step.", kScopeAll, {}},
        // Optimizer
        {"weight_decay", "Optimizer", "AdamW's decoupled weight decay.", kScopeAll, {}},
        {"adam_beta1", "Optimizer", "AdamW's first-moment decay.", kScopeAll, {}},
        {"adam_beta2", "Optimizer", "AdamW's second-moment decay.", kScopeAll, {}},
        {"adam_epsilon", "Optimizer", "AdamW's denominator term.", kScopeAll, {}},
        {"max_grad_norm", "Optimizer", "Clip the global L2 norm of the gradients to this; 0 turns clipping off.", kScopeAll, {}},
        {"seed", "Optimizer", "Seeds the data order, dropout, adapter initialisation, the query split and sampling.", kScopeAll, {}},
        // Adapter
        {"full_finetune", "Adapter", "Train every text weight instead of LoRA adapters (UniRank's own; much more memory).", kScopeAll, {}},
        {"r", "Adapter", "LoRA rank.", kScopeAll, {}},
        {"lora_alpha", "Adapter", "LoRA scaling numerator: updates are scaled by lora_alpha / r (or / sqrt(r) with use_rslora).", kScopeAll, {}},
        {"lora_dropout", "Adapter", "Dropout on the LoRA branch's input while training.", kScopeAll, {}},
        {"target_modules", "Adapter", "Linear layers that get adapters, by name, separated by spaces.", kScopeAll, {}},
        {"use_rslora", "Adapter", "Rank-stabilised LoRA scaling (lora_alpha / sqrt(r)).", kScopeAll, {}},
        {"lora_vision", "Adapter", "Adapt the vision tower's matching layers too (UniRank's own); otherwise image embeddings are computed once.",
         kScopeAll, {}},
        // Data
        {"relevance_threshold", "Data", "A graded label at or above this counts as relevant (grades are 0-3).", kScopeAll, {}},
        {"validation_split", "Data", "Share of the queries held out to measure the run and choose the checkpoint that is published.",
         kScopeAll, {}},
        {"report_split", "Data",
         "Share of the held-out queries kept for reporting only: the published checkpoint is chosen on the others, and the result "
         "is reported on these.",
         kScopeAll, {}},
        {"max_candidates_per_query", "Data", "Cap on the candidates used per query.", kScopeAll, {}},
        {"use_preferences", "Data", "Pairwise preferences add yes/no examples for candidates without a graded label.", kScopeSft, {}},
        {"first_stage_negatives", "Data", "Unjudged first-stage candidates count as \"no\".", kScopeSft, {}},
        {"negatives_per_positive", "Data", "Class balance within a query: \"no\" examples kept per \"yes\"; 0 keeps all.", kScopeSft, {}},
        {"use_human", "Data", "Use the annotators' pairwise labels (majority per pair; tied votes drop the pair).", kScopeAlign, {}},
        {"use_derived", "Data", "Derive pairs from graded labels: the higher grade is preferred.", kScopeAlign, {}},
        {"derived_pairs_per_query", "Data", "Grade-derived pairs kept per query, widest gaps first; 0 keeps all.", kScopeAlign, {}},
        {"mined_pairs_per_query", "Data",
         "Hard negatives mined with the current model at the start of each round: a non-relevant candidate ranked above a relevant "
         "one, paired with it; 0 mines none.",
         kScopeAlign, {}},
        {"unjudged_rule", "Data", "Whether an unjudged candidate ranked above a relevant one counts as a hard negative.", kScopeAlign,
         {"skip", "negative"}},
        // Objective
        {"label_loss", "Objective", "Cross-entropy over the two label tokens (the scorer's logits) or the whole vocabulary.", kScopeSft,
         {"label_tokens", "full_vocab"}},
        {"listwise_weight", "Objective", "Weight of a softmax over each query's yes-no margins added to the loss; 0 turns it off.",
         kScopeSft, {}},
        {"prompt_template", "Objective",
         "A prompt template file (JSON, like unirank_prompt.json) to train with, e.g. resources/prompts/monoqwen2-vl.json for the "
         "candidate-first layout; empty: the model's own. The adapter keeps the template it was trained with.",
         kScopeSft, {}},
        {"beta", "Objective",
         "DPO: inverse temperature of the implicit reward. PL-GRPO: weight of the KL penalty that keeps the policy near the reference.",
         kScopeAlign, {}},
        {"label_smoothing", "Objective", "DPO: assumed share of flipped preferences (conservative DPO).", kScopeDpo, {}},
        {"num_generations", "Objective", "PL-GRPO: rankings sampled per query; their rewards are compared within the group.",
         kScopePlGrpo, {}},
        {"epsilon", "Objective", "PL-GRPO: clip range of the importance ratio.", kScopePlGrpo, {}},
        {"num_iterations", "Objective", "PL-GRPO: optimizer steps on each batch of sampled rankings.", kScopePlGrpo, {}},
        {"disable_dropout", "Objective",
         "Train the policy without LoRA dropout, as the reference is scored (TRL's default); otherwise the policy's scores are noisier than the reference's.",
         kScopeAlign, {}},
        {"temperature", "Objective", "PL-GRPO: sampling temperature of the ranking policy.", kScopePlGrpo, {}},
        {"scale_rewards", "Objective", "PL-GRPO: divide advantages by the group's standard deviation.", kScopePlGrpo, {}},
        {"reward_pair_weight", "Objective", "PL-GRPO reward: weight of the agreement with the query's preference pairs.", kScopePlGrpo, {}},
        {"reward_ndcg_weight", "Objective", "PL-GRPO reward: weight of the ranking's nDCG against the graded labels.", kScopePlGrpo, {}},
        {"reward_ndcg_depth", "Objective", "PL-GRPO reward: depth of that nDCG.", kScopePlGrpo, {}},
        // Evaluation
        {"max_kl", "Evaluation",
         "Bound on KL(policy || reference) over the selection queries: only a checkpoint within it is published; above it the KL "
         "guard goes back to the last weights within it and halves the learning rate.",
         kScopeAlign, {}},
        {"kl_target_share", "Evaluation", "The KL guard halves the learning rate when KL to the reference passes this share of max_kl.",
         kScopeAlign, {}},
        {"kl_check_steps", "Evaluation", "The KL guard measures KL every N steps, besides every evaluation; 0: only at evaluations.",
         kScopeAlign, {}},
        {"kl_check_queries", "Evaluation", "Selection queries used by those checks (the first ones); 0: all.", kScopeAlign, {}},
        {"kl_samples", "Evaluation", "Rankings sampled per query to estimate that KL.", kScopeAlign, {}},
        {"eval_steps", "Evaluation", "Evaluate the selection queries every N steps; 0: at each epoch's end for instruction tuning, ten times per round for alignment.", kScopeAll, {}},
        // Performance and checkpoints
        {"bf16", "Performance", "Autocast to bfloat16 (CUDA, or a CPU with AVX-512 BF16).", kScopeAll, {}},
        {"gradient_checkpointing", "Performance", "Recompute decoder activations in backward: less memory, about a quarter slower.",
         kScopeAll, {}},
        {"logging_steps", "Checkpoints", "Write metrics into the project every N steps.", kScopeAll, {}},
        {"save_steps", "Checkpoints", "Save a checkpoint every N steps; 0 saves at each epoch's end (and always on cancel).", kScopeAll, {}},
        {"save_total_limit", "Checkpoints", "Checkpoints kept besides the best one; older ones are deleted.", kScopeAll, {}},
    };
    return docs;
}

const SettingDoc *findSettingDoc(const std::string &key)
{
    const auto &docs = settingDocs();
    const auto it = std::find_if(docs.begin(), docs.end(), [&](const SettingDoc &d) { return d.key == key; });
    return it == docs.end() ? nullptr : &*it;
}

} // namespace unirank::training
