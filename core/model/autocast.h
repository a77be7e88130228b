// SPDX-License-Identifier: GPL-3.0-or-later
// bf16 autocast for the current thread while alive (autocast state is thread-local): matmuls and
// convolutions run in bfloat16, weights stay in their dtype. Works with libtorch 1.13 (Debian) and 2.x
// (whose API takes the device type).
//
// Threading: create it on the thread that runs the forward.
#pragma once

#include <ATen/autocast_mode.h>
#include <torch/version.h>

namespace unirank::model {

class AutocastBf16 {
public:
    AutocastBf16(bool on, c10::Device device) : m_on(on), m_type(device.type())
    {
        if (m_on)
            set(true);
    }
    ~AutocastBf16()
    {
        if (!m_on)
            return;
        set(false);
        at::autocast::clear_cache();
    }
    AutocastBf16(const AutocastBf16 &) = delete;
    AutocastBf16 &operator=(const AutocastBf16 &) = delete;

private:
    void set(bool enabled)
    {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
        at::autocast::set_autocast_dtype(m_type, at::kBFloat16);
        at::autocast::set_autocast_enabled(m_type, enabled);
#else
        if (m_type == c10::DeviceType::CUDA) {
            at::autocast::set_autocast_gpu_dtype(at::kBFloat16);
            at::autocast::set_enabled(enabled);
        } else {
            at::autocast::set_autocast_cpu_dtype(at::kBFloat16);
            at::autocast::set_cpu_enabled(enabled);
        }
#endif
    }

    bool m_on;
    c10::DeviceType m_type;
};

} // namespace unirank::model
