#!/usr/bin/env bash
# Regenerates tests/data/reference/hybrid/margins_{qwen2_5_vl,qwen3_vl}.json: transformers main's margins
# for checkpoints laid out like Qwen2.5-VL-3B-Instruct and Qwen3-VL-2B-Instruct (rebuilt from a seed by
# `unirank-cli random-checkpoint`), in float32 and float64, with UniRank's built-in template and
# MonoQwen2-VL's. Prompt ids come from transformers 4.45.1's slow tokenizer (TRANSFORMERS_SRC, HUB_SRC,
# Debian's /usr/bin/python3, as make-hybrid-reference.sh); the models run in the Debian 13 chroot ROOT
# made by chroot-main.sh (TRANSFORMERS_MAIN_SRC, HUB_MAIN_SRC).
#   tools/golden/make-families-reference.sh BUILD_DIR WORK_DIR CHROOT_ROOT
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:?build folder (with app/unirank-cli)}
work=$(mkdir -p "${2:?scratch folder}" && cd "$2" && pwd)
chroot_root=${3:?chroot made by chroot-main.sh setup}
data=$root/tests/data/reference/hybrid
tokdir=$work/tokenizer
mkdir -p "$tokdir"
tar -xJf "$root/tests/data/golden/qwen2vl/tokenizer/tokenizer.json.tar.xz" -C "$tokdir"
cp "$root/tests/data/golden/qwen2vl/tokenizer/tokenizer_config.json" "$tokdir/"
templates=("$data/templates/unirank-default.json" "$root/resources/prompts/monoqwen2-vl.json")
PYTHONPATH=$here/pyshim:${TRANSFORMERS_SRC:?}:${HUB_SRC:?} /usr/bin/python3 "$here/prompt_ids_reference.py" \
  "$tokdir" "$tokdir" "$data" "$work/ids.json" "${templates[@]}"
# Keep these commands in step with test_reference_families.cpp.
declare -A commands=(
  [qwen2_5_vl]="random-checkpoint --preset qwen2.5-vl-3b --layers 2 --vision-blocks 8 --seed 20 --shard-mb 500"
  [qwen3_vl]="random-checkpoint --preset qwen3-vl-2b --layers 2 --vision-blocks 12 --seed 20 --shard-mb 500")
for family in qwen2_5_vl qwen3_vl; do
  command=${commands[$family]}
  rm -rf "$work/$family"
  "$build/app/unirank-cli" $command --out "$work/$family"
  args=()
  for t in unirank-default monoqwen2-vl; do
    for dt in float32 float64; do
      "$here/chroot-main.sh" run "$chroot_root" python3 "$here/score_reference_main.py" "$work/$family" "$data" \
        "$work/ids.json" "$t" "$work/m_${family}_${t}_$dt.json" --dtype "$dt"
    done
    args+=("$t=$work/m_${family}_${t}_float32.json,$work/m_${family}_${t}_float64.json")
  done
  /usr/bin/python3 "$here/combine_margins.py" "$data/margins_$family.json" "$work/$family" "$command" "${args[@]}"
done
