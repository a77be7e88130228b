// SPDX-License-Identifier: GPL-3.0-or-later
// While a SkipParameterInit lives on a thread, the model's constructors allocate their large weights
// (linear layers, token embedding, LM head) without initialising them. The loader builds the model
// this way and then gives every parameter the checkpoint's tensor (set_data), so a 2B model never
// holds a randomly initialised float32 copy: the untouched allocations are freed without ever being
// backed by memory. Scopes nest; the state is per thread.
#pragma once

namespace unirank::model {

class SkipParameterInit {
public:
    SkipParameterInit();
    ~SkipParameterInit();
    SkipParameterInit(const SkipParameterInit &) = delete;
    SkipParameterInit &operator=(const SkipParameterInit &) = delete;
    static bool active();

private:
    bool m_previous;
};

} // namespace unirank::model
