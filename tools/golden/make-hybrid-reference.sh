#!/usr/bin/env bash
# Regenerates tests/data/reference/hybrid/{reference_ids.json,margins_2b.json} with transformers 4.45.1
# (the environment of README.md beside this file: TRANSFORMERS_SRC, HUB_SRC point at the source trees'
# src/ folders; python3 is Debian's /usr/bin/python3 with python3-torch). Deterministic: the same files
# byte for byte on a rerun.
#   tools/golden/make-hybrid-reference.sh BUILD_DIR WORK_DIR
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
build=${1:?build folder (with app/unirank-cli)}
work=${2:?scratch folder}
data=$root/tests/data/reference/hybrid
py=/usr/bin/python3
export PYTHONPATH=$here/pyshim:${TRANSFORMERS_SRC:?}:${HUB_SRC:?}
mkdir -p "$work"
tokdir=$work/tokenizer
mkdir -p "$tokdir"
tar -xJf "$root/tests/data/golden/qwen2vl/tokenizer/tokenizer.json.tar.xz" -C "$tokdir"
cp "$root/tests/data/golden/qwen2vl/tokenizer/tokenizer_config.json" "$tokdir/"
# The checkpoint the end-to-end test rebuilds: keep this command in step with test_reference_scores.cpp.
command="random-checkpoint --preset 2b --layers 2 --vision-blocks 2 --seed 19 --shard-mb 500"
rm -rf "$work/model"
"$build/app/unirank-cli" $command --out "$work/model"
cp "$tokdir/tokenizer.json" "$tokdir/tokenizer_config.json" "$work/model/"
templates=("$data/templates/unirank-default.json" "$root/resources/prompts/monoqwen2-vl.json"
           "$data/templates/no-system-assistant-text.json")
$py "$here/prompt_ids_reference.py" "$tokdir" "$work/model" "$data" "$data/reference_ids.json" "${templates[@]}"
args=()
for t in unirank-default monoqwen2-vl; do
  tf=$data/templates/$t.json
  [ "$t" = monoqwen2-vl ] && tf=$root/resources/prompts/monoqwen2-vl.json
  for dt in float32 float64; do
    $py "$here/score_reference.py" "$work/model" "$data" "$tf" "$work/m_${t}_$dt.json" --dtype $dt
  done
  args+=("$t=$work/m_${t}_float32.json,$work/m_${t}_float64.json")
done
$py "$here/combine_margins.py" "$data/margins_2b.json" "$work/model" "$command" "${args[@]}"
