#!/usr/bin/env bash
# "Score all queries" with a candidate-first template (MonoQwen2-VL's layout) on the clip-art dev split:
# today's path (every pair computes its whole prompt) against candidate reuse (each candidate's prefix
# once, then only the query per pair), on the same model in one run. The model is Qwen2-VL-2B's shapes
# with LAYERS decoder layers and vision blocks (random weights, the real Qwen tokenizer the tests
# unpack, resources/prompts/monoqwen2-vl.json).
#
# Each path is timed on the sample that shows its own cost per pair, both about 1,500 pairs:
# - today's path on the first QUERIES lists, whole (30 candidates each, batches full as in the app);
#   its cost per pair does not depend on how often a candidate recurs;
# - candidate reuse on every EVERY-th candidate of the split (sorted ids) with all of its pairs, so
#   each kept candidate recurs in as many lists as in the whole split (~10), which is what reuse pays on.
# Prints pairs/s of both and, on the reuse sample, the largest score difference from today's path on
# its first 200 pairs.
#
#   scripts/bench-candidate-first.sh [DEV_FOLDER] [EVERY] [QUERIES] [LAYERS]
# (default: ../shared/data/clipart-hybrid/dev, 16, 50, 2). Builds nothing: run after run-tests.sh.
set -euo pipefail
cd "$(dirname "$0")/.."
dev=${1:-../shared/data/clipart-hybrid/dev}
every=${2:-16}
queries=${3:-50}
layers=${4:-2}
cli=${UNIRANK_CLI:-build/release/app/unirank-cli}
work=build/bench-candidate-first
rm -rf "$work"
mkdir -p "$work"
model=$work/model-2b-$layers
"$cli" random-checkpoint --preset 2b --layers "$layers" --vision-blocks "$layers" --dtype fp32 --out "$model" >/dev/null
cp build/release/testdata/qwen-tokenizer/tokenizer.json "$model/"
cp resources/prompts/monoqwen2-vl.json "$model/unirank_prompt.json"

subset() { # DST QUERY_IDS [CANDIDATE_IDS]: a BEIR folder with these lists (and candidates)
  local dst=$1 ids=$2 cands=${3:-}
  mkdir -p "$dst"
  if [ -n "$cands" ]; then
    awk 'NR == FNR { c[$1] = 1; next } ($3 in c)' "$cands" "$dev/run.trec" > "$dst/run.trec"
  else
    awk 'NR == FNR { q[$1] = 1; next } ($1 in q)' "$ids" "$dev/run.trec" > "$dst/run.trec"
  fi
  awk '{print $1}' "$dst/run.trec" | sort -u > "$dst/.ids"
  awk 'NR == FNR { q[$1] = 1; next } { id = $0; sub(/.*"_id": *"/, "", id); sub(/".*/, "", id); if (id in q) print }' \
    "$dst/.ids" "$dev/queries.jsonl" > "$dst/queries.jsonl"
  awk 'NR == FNR { q[$1] = 1; next } FNR == 1 || ($1 in q)' "$dst/.ids" "$dev/qrels.tsv" > "$dst/qrels.tsv"
  rm "$dst/.ids"
  cp "$dev/corpus.jsonl" "$dst/corpus.jsonl"
  cp -r "$dev/images" "$dst/images" # import refuses symlinks that leave the folder
}
awk -v n="$queries" '!seen[$1]++ && ++k <= n { print $1 }' "$dev/run.trec" > "$work/first-queries"
subset "$work/lists" "$work/first-queries"
awk '{print $3}' "$dev/run.trec" | sort -u | awk -v k="$every" 'NR % k == 1' > "$work/candidates"
subset "$work/sample" /dev/null "$work/candidates"
echo "today's path: $(wc -l < "$work/lists/run.trec") pairs in $queries whole lists"
echo "candidate reuse: $(wc -l < "$work/candidates") candidates in $(wc -l < "$work/sample/run.trec") pairs of $(awk '{print $1}' "$work/sample/run.trec" | sort -u | wc -l) lists"

# A benchmark may unset the machine's OpenBLAS safety settings for itself (see README).
score() { env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE "$cli" score --model "$model" "$@" 2>&1 | grep -E "^(scored|candidate-first)"; }
echo "== today's path (--no-candidate-reuse), whole lists"
score --dataset "$work/lists" --out "$work/today.trec" --no-candidate-reuse
echo "== candidate reuse, the candidate sample"
score --dataset "$work/sample" --out "$work/reuse.trec"
# The same pairs along both paths: the first 200 of the sample.
mkdir -p "$work/check"
awk 'NR <= 200 { print $3 }' "$work/sample/run.trec" | sort -u > "$work/check-candidates"
subset "$work/check" /dev/null "$work/check-candidates"
awk 'NR <= 200' "$work/sample/run.trec" > "$work/check/run.trec"
score --dataset "$work/check" --out "$work/check-today.trec" --no-candidate-reuse >/dev/null
awk 'NR == FNR { s[$1 " " $3] = $5; next } ($1 " " $3) in s { d = $5 - s[$1 " " $3]; if (d < 0) d = -d; if (d > m) m = d; n++ }
     END { printf "largest |margin difference|, reuse vs today, over %d pairs: %.3g\n", n, m }' \
  "$work/check-today.trec" "$work/reuse.trec"
