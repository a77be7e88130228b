# SPDX-License-Identifier: GPL-3.0-or-later
# Finds libtorch: Debian's libtorch-dev (CPU) by default; a CUDA build sets Torch_DIR (or
# CMAKE_PREFIX_PATH) to a CUDA libtorch, e.g. the one inside a pip torch wheel
# (python3 -c 'import torch; print(torch.utils.cmake_prefix_path)').
find_package(Torch REQUIRED)
# TORCH_CXX_FLAGS carries the ABI define; keep it as a list of options for our targets.
separate_arguments(UNIRANK_TORCH_CXX_FLAGS UNIX_COMMAND "${TORCH_CXX_FLAGS}")
message(STATUS "libtorch ${Torch_VERSION}: ${TORCH_LIBRARIES}")
# A CUDA libtorch exports the torch_cuda target (and c10_cuda); the benchmark then reads the caching
# allocator's peak.
if(TARGET torch_cuda OR TARGET c10_cuda OR TORCH_CUDA_LIBRARIES)
  set(UNIRANK_TORCH_HAS_CUDA ON)
  message(STATUS "libtorch has CUDA")
endif()
