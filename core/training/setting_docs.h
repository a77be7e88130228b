// SPDX-License-Identifier: GPL-3.0-or-later
// What each training setting means, for people: one entry per key of SftConfig and AlignConfig (the
// same words as the tables in training_arguments.h, sft_config.h and align_config.h), with the group it
// is shown in, the runs it applies to and, for text settings, the accepted values. The Train tab builds
// its form and tooltips from this table and the configurations' own defaults; `unirank-cli train
// settings` prints it. Torch-free and Qt-free.
//
// Threading: immutable after first use (function-local static), so any thread may read it.
#pragma once

#include <string>
#include <vector>

namespace unirank::training {

/// The runs a setting affects.
enum SettingScope : unsigned {
    kScopeSft = 1u << 0,
    kScopeDpo = 1u << 1,
    kScopePlGrpo = 1u << 2,
    kScopeAlign = kScopeDpo | kScopePlGrpo,
    kScopeAll = kScopeSft | kScopeAlign,
};

struct SettingDoc {
    std::string key;
    std::string group;                ///< "Schedule", "Optimizer", "LoRA", "Data", ...
    std::string help;                 ///< one or two sentences; Hugging Face / TRL name noted where it differs
    unsigned scope = kScopeAll;
    std::vector<std::string> choices; ///< accepted values of a text setting; empty: free
};

/// Every documented setting, in display order.
const std::vector<SettingDoc> &settingDocs();
/// The entry of `key`, or null.
const SettingDoc *findSettingDoc(const std::string &key);

} // namespace unirank::training
