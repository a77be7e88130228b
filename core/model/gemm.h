// SPDX-License-Identifier: GPL-3.0-or-later
// The model's matrix products. libtorch's CPU kernels for bf16/fp16 products can be far slower than
// its float32 GEMM (Debian's libtorch 1.13 on an AVX-512 BF16 machine: 4.7 against 157 GFLOP/s).
// Where they are, a half-precision product on the CPU is "widened": operand blocks are converted to
// float32, multiplied with float32 accumulation and the result rounded once to the input's dtype.
// That is the arithmetic of a native bf16 GEMM (bf16 inputs, float32 accumulation, bf16 output), so
// scores do not move beyond summation order; weights stay in their dtype, and a weight is widened
// block by block into one kWidenBlockBytes float32 buffer per thread (kept for the thread's life:
// fresh allocations would cost more in page faults than the products), a 7B model's 2 GiB head too.
//
// Which path runs is measured once per process and dtype, on first use (a ~20 ms probe of both
// paths; the faster wins, and a dtype libtorch has no CPU kernel for, fp16 on 1.13, is widened), and
// is the same for every thread. CUDA and float32 always run natively.
// Autograd: linear() has a custom backward that widens again instead of keeping float32 copies of
// the weights alive for the backward pass; matmul() is plain autograd.
//
// Threading: all functions are safe to call from any thread.
#pragma once

#include <torch/torch.h>

namespace unirank::model::gemm {

/// Bytes of one float32 operand block of a widened product.
inline constexpr std::int64_t kWidenBlockBytes = std::int64_t(32) << 20;

enum class HalfPath { Native, Widen };

/// The path products in `type` take on the CPU (Native for float32 and double).
HalfPath cpuPath(torch::ScalarType type);
const char *pathName(HalfPath path);

/// x W^T + b (b may be undefined), as torch::linear, widened where cpuPath() says so.
torch::Tensor linear(const torch::Tensor &x, const torch::Tensor &weight, const torch::Tensor &bias = {});
/// a @ b, as torch::matmul, widened where cpuPath() says so.
torch::Tensor matmul(const torch::Tensor &a, const torch::Tensor &b);

/// `t` as an operand of repeated products: widened to float32 where products of its dtype widen
/// here, `t` itself otherwise. Attention widens its keys and values once for all query blocks and
/// rounds each product back to the model's dtype, as the native kernel would.
torch::Tensor operand(const torch::Tensor &t);

/// The widened products themselves, whatever cpuPath() says (for tests and benchmarks).
torch::Tensor linearWidened(const torch::Tensor &x, const torch::Tensor &weight, const torch::Tensor &bias = {});
torch::Tensor matmulWidened(const torch::Tensor &a, const torch::Tensor &b);

} // namespace unirank::model::gemm
