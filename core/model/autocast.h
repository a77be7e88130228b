// SPDX-License-Identifier: GPL-3.0-or-later
// Autocast for the current thread (autocast state is thread-local). AutocastBf16 turns bf16 autocast
// on while alive: matmuls and convolutions run in bfloat16, weights stay in their dtype. AutocastScope
// sets any captured state and restores the previous one on exit, so scopes nest (a validation pass
// inside a training loop leaves the loop's autocast on). Works with libtorch 1.13 (Debian) and 2.x
// (whose API takes the device type).
//
// Threading: create them on the thread that runs the forward.
#pragma once

#include <ATen/autocast_mode.h>
#include <torch/version.h>

#include <optional>

namespace unirank::model {

struct AutocastState {
    bool enabled = false;
    at::ScalarType dtype = at::kBFloat16;
};

inline AutocastState autocastState(c10::DeviceType type)
{
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
    return {at::autocast::is_autocast_enabled(type), at::autocast::get_autocast_dtype(type)};
#else
    if (type == c10::DeviceType::CUDA)
        return {at::autocast::is_enabled(), at::autocast::get_autocast_gpu_dtype()};
    return {at::autocast::is_cpu_enabled(), at::autocast::get_autocast_cpu_dtype()};
#endif
}

inline void setAutocastState(c10::DeviceType type, AutocastState state)
{
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
    at::autocast::set_autocast_dtype(type, state.dtype);
    at::autocast::set_autocast_enabled(type, state.enabled);
#else
    if (type == c10::DeviceType::CUDA) {
        at::autocast::set_autocast_gpu_dtype(state.dtype);
        at::autocast::set_enabled(state.enabled);
    } else {
        at::autocast::set_autocast_cpu_dtype(state.dtype);
        at::autocast::set_cpu_enabled(state.enabled);
    }
#endif
}

class AutocastScope {
public:
    AutocastScope(c10::DeviceType type, AutocastState state) : m_type(type), m_previous(autocastState(type))
    {
        setAutocastState(m_type, state);
    }
    ~AutocastScope()
    {
        setAutocastState(m_type, m_previous);
        if (!m_previous.enabled)
            at::autocast::clear_cache();
    }
    AutocastScope(const AutocastScope &) = delete;
    AutocastScope &operator=(const AutocastScope &) = delete;

private:
    c10::DeviceType m_type;
    AutocastState m_previous;
};

/// bf16 autocast on `device`'s type while alive when `on`; nothing otherwise.
class AutocastBf16 {
public:
    AutocastBf16(bool on, c10::Device device)
    {
        if (on)
            m_scope.emplace(device.type(), AutocastState{true, at::kBFloat16});
    }

private:
    std::optional<AutocastScope> m_scope;
};

} // namespace unirank::model
