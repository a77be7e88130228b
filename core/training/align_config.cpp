// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/training/align_config.h"

namespace unirank::training {
namespace {

const std::vector<ConfigField<AlignConfig>> &fields()
{
    using C = AlignConfig;
    static const auto all = [] {
        auto f = trainingArgumentFields<C>();
        f.push_back(configField<C>("beta", &C::beta));
        f.push_back(configField<C>("label_smoothing", &C::label_smoothing));
        f.push_back(configField<C>("num_generations", &C::num_generations));
        f.push_back(configField<C>("epsilon", &C::epsilon));
        f.push_back(configField<C>("num_iterations", &C::num_iterations));
        f.push_back(configField<C>("disable_dropout", &C::disable_dropout));
        f.push_back(configField<C>("temperature", &C::temperature));
        f.push_back(configField<C>("scale_rewards", &C::scale_rewards));
        f.push_back(configField<C>("use_human", &C::use_human));
        f.push_back(configField<C>("use_derived", &C::use_derived));
        f.push_back(configField<C>("derived_pairs_per_query", &C::derived_pairs_per_query));
        f.push_back(configField<C>("mined_pairs_per_query", &C::mined_pairs_per_query));
        f.push_back(configField<C>("unjudged_rule", &C::unjudged_rule));
        f.push_back(configField<C>("reward_pair_weight", &C::reward_pair_weight));
        f.push_back(configField<C>("reward_ndcg_weight", &C::reward_ndcg_weight));
        f.push_back(configField<C>("reward_ndcg_depth", &C::reward_ndcg_depth));
        f.push_back(configField<C>("max_kl", &C::max_kl));
        f.push_back(configField<C>("kl_samples", &C::kl_samples));
        f.push_back(configField<C>("kl_target_share", &C::kl_target_share));
        f.push_back(configField<C>("kl_check_steps", &C::kl_check_steps));
        f.push_back(configField<C>("kl_check_queries", &C::kl_check_queries));
        return f;
    }();
    return all;
}

} // namespace

const char *toString(AlignMethod method) { return method == AlignMethod::Dpo ? "dpo" : "pl-grpo"; }

AlignMethod parseAlignMethod(const std::string &name)
{
    if (name == "dpo")
        return AlignMethod::Dpo;
    if (name == "pl-grpo")
        return AlignMethod::PlGrpo;
    throw InputError("unknown alignment method '" + name + "' (dpo or pl-grpo)");
}

AlignConfig AlignConfig::forMethod(AlignMethod method)
{
    AlignConfig c;
    if (method == AlignMethod::PlGrpo) {
        c.learning_rate = 2e-3;
        c.num_train_epochs = 2;
        c.per_device_train_batch_size = 2;
    }
    return c;
}

AlignConfig AlignConfig::fromJson(const nlohmann::json &json, const std::string &source, AlignMethod method)
{
    auto c = forMethod(method);
    readConfigFields(c, fields(), json, source);
    c.validate(source);
    return c;
}

nlohmann::json AlignConfig::toJson() const { return writeConfigFields(*this, fields()); }

void AlignConfig::validate(const std::string &source) const
{
    validateArguments(source);
    const auto fail = [&](const char *key, const std::string &why) { throw InputError(SourceLocation{source, 0, key}, why); };
    if (!(beta >= 0))
        fail("beta", "must not be negative");
    if (label_smoothing < 0 || label_smoothing >= 0.5)
        fail("label_smoothing", "must be in [0, 0.5)");
    if (num_generations < 2)
        fail("num_generations", "must be at least 2 (advantages are relative to the group)");
    if (!(epsilon > 0 && epsilon < 1))
        fail("epsilon", "must be in (0, 1)");
    if (num_iterations < 1)
        fail("num_iterations", "must be at least 1");
    if (!(temperature > 0))
        fail("temperature", "must be positive");
    if (derived_pairs_per_query < 0 || mined_pairs_per_query < 0)
        fail(derived_pairs_per_query < 0 ? "derived_pairs_per_query" : "mined_pairs_per_query", "must not be negative");
    if (unjudged_rule != "skip" && unjudged_rule != "negative")
        fail("unjudged_rule", "must be skip or negative");
    if (reward_pair_weight < 0 || reward_ndcg_weight < 0 || reward_pair_weight + reward_ndcg_weight <= 0)
        fail("reward_pair_weight", "the reward weights must not be negative and not both zero");
    if (reward_ndcg_depth < 1)
        fail("reward_ndcg_depth", "must be at least 1");
    if (!(max_kl > 0))
        fail("max_kl", "must be positive");
    if (kl_samples < 1)
        fail("kl_samples", "must be at least 1");
    if (!(kl_target_share > 0 && kl_target_share <= 1))
        fail("kl_target_share", "must be in (0, 1]");
    if (kl_check_steps < 0)
        fail("kl_check_steps", "must not be negative");
    if (kl_check_queries < 0)
        fail("kl_check_queries", "must not be negative");
}

} // namespace unirank::training
