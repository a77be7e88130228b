// SPDX-License-Identifier: GPL-3.0-or-later
// Every hyperparameter of an instruction-tuning run: the shared TrainingArguments (training_arguments.h
// lists their keys and defaults) plus these, all UniRank's own:
//
//   key                            default   meaning
//   use_preferences                true      pairwise preferences add yes/no items
//   first_stage_negatives          true      unjudged first-stage candidates are "no"
//   negatives_per_positive         1.0       class balance within a query; 0: keep all
//   label_loss                     label_tokens   label_tokens: softmax over yes/no; full_vocab: over all
//   listwise_weight                0.0       weight of a softmax-over-the-group term on the margins
//   prompt_template                ""        a template JSON to train with (e.g. resources/prompts/
//                                            monoqwen2-vl.json, candidate-first); "": the model's own.
//                                            The adapter or checkpoint keeps the template it was trained with.
//
// Errors: InputError naming the file and key for an unknown key, a wrong type or a bad value.
#pragma once

#include "core/training/training_arguments.h"

namespace unirank::training {

struct SftConfig : TrainingArguments {
    bool use_preferences = true;
    bool first_stage_negatives = true;
    double negatives_per_positive = 1.0;
    std::string label_loss = "label_tokens";
    double listwise_weight = 0.0;
    std::string prompt_template;

    /// Overrides the defaults with the keys present; `source` names the file in errors.
    static SftConfig fromJson(const nlohmann::json &json, const std::string &source);
    nlohmann::json toJson() const;
    void validate(const std::string &source) const; ///< throws InputError
};

} // namespace unirank::training
