#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-3.0-or-later
# Builds the core-only configuration (unirank_base + unirank_model + a model-only unirank-cli) against
# a CUDA libtorch and runs the reference parity on the GPU in fp32, bf16 and fp16, plus the model
# benchmark. For a machine with only a CUDA PyTorch on it: the libtorch inside the pip wheel is used
# unless Torch_DIR is set. Header-only dependencies (nlohmann_json, CLI11) are found on the system or
# under EXTRA_PREFIX (a folder laid out as PREFIX/include + PREFIX/share/cmake).
#
# Set PARITY=0, MODEL_BENCH=0 or TRAIN_BENCH=0 to skip a part (device time is scarce).
#
#   scripts/cuda-check.sh [OUTPUT_DIR]      (default: build/cuda-check)
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build/cuda-check}
mkdir -p "$out"
torch_prefix=${Torch_DIR:-$(python3 -c 'import torch; print(torch.utils.cmake_prefix_path)')}
prefix="$torch_prefix${EXTRA_PREFIX:+;$EXTRA_PREFIX}"
cxx=${CXX:-}
if [[ -z "$cxx" ]]; then
  for c in g++-14 g++-13 g++-12 g++; do command -v "$c" >/dev/null && { cxx=$c; break; }; done
fi
echo "compiler: $($cxx --version | head -1)"
nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv,noheader || true
UNIRANK_CUDA_TORCH="$prefix" cmake --preset cuda -DCMAKE_CXX_COMPILER="$cxx" 2>&1 | tail -5 # build/cuda
cmake --build build/cuda -j "$(nproc)" 2>&1 | tail -3
cli=build/cuda/app/unirank-cli
golden=tests/data/golden/qwen2vl
status=0
parity_runs=("cpu fp32" "cuda fp32" "cuda bf16" "cuda fp16")
[[ ${PARITY:-1} == 0 ]] && parity_runs=()
for run in "${parity_runs[@]}"; do
  set -- $run
  echo "== parity $1 $2"
  "$cli" parity --model "$golden/model_a" --golden "$golden" --device "$1" --dtype "$2" --json \
    >"$out/parity-$1-$2.json" 2>"$out/parity-$1-$2.log" || status=1
  python3 - "$out/parity-$1-$2.json" <<'PY' || true
import json, sys
r = json.load(open(sys.argv[1]))
for c in r["cases"]:
    t = c["tensors"]
    print(f'{c["name"]:16} ok={c["ok"]} logits {t["logits"]["max_abs"]:.3g} (tol {t["logits"]["tolerance"]:.3g})'
          f' last_hidden {t["last_hidden_state"]["max_abs"]:.3g}'
          + (f' image_embeds {t["image_embeds"]["max_abs"]:.3g}' if "image_embeds" in t else ''))
PY
done
model_runs=("tiny 2 fp32 8 256" "2b 4 fp32 8 512" "2b 4 bf16 8 512" "2b 28 bf16 8 512")
[[ ${MODEL_BENCH:-1} == 0 ]] && model_runs=()
for run in "${model_runs[@]}"; do
  set -- $run
  echo "== bench model $1 layers=$2 $3 batch=$4 seq=$5"
  "$cli" bench model --preset "$1" --layers "$2" --dtype "$3" --batch "$4" --seq-len "$5" --device cuda --json \
    >"$out/bench-$1-$2-$3.json" 2>/dev/null && cat "$out/bench-$1-$2-$3.json" || status=1
done
train_runs=("tiny 2 lora fp32 8 256" "2b 4 lora fp32 8 512" "2b 4 lora bf16 8 512" "2b 4 full bf16 8 512" "2b 28 lora bf16 4 512")
[[ ${TRAIN_BENCH:-1} == 0 ]] && train_runs=()
for run in "${train_runs[@]}"; do
  set -- $run
  echo "== bench train $1 layers=$2 $3 $4 batch=$5 seq=$6"
  bf16=(); [[ $4 == bf16 ]] && bf16=(--bf16)
  "$cli" bench train --preset "$1" --layers "$2" --mode "$3" "${bf16[@]}" --batch "$5" --seq-len "$6" --device cuda --json \
    >"$out/train-$1-$2-$3-$4.json" 2>/dev/null && cat "$out/train-$1-$2-$3-$4.json" || status=1
done
exit $status
