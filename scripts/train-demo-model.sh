#!/usr/bin/env bash
# Trains resources/models/clipart-demo, the demo's model, with UniRank's own pipeline: instruction
# tuning (every weight) of resources/models/clipart-tiny (itself tuned on the clipart-hybrid dev split
# without these queries) on the demo data set's own 20 queries and all of their labels, so that the
# demo ranks its own data sensibly. It has seen every demo label: it shows what a tuned model looks
# like in the app, it is no evidence that the tiny model generalises (docs/training.md, "Preference alignment").
# One thread, so the weights repeat bit for bit on the same libtorch build.
#
#   scripts/train-demo-model.sh [OUT]     default build/clipart-demo
# Then copy OUT/clipart-demo to resources/models/clipart-demo (the README there is kept by hand).
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build/clipart-demo}
cli=$PWD/build/release/app/unirank-cli
rm -rf "$out"
mkdir -p "$out"
out=$(realpath "$out")

"$cli" init "$out/project.unirank"
"$cli" import "$out/project.unirank" --dataset resources/demo/clipart-smoke --collection demo
OMP_NUM_THREADS=1 "$cli" train sft --project "$out/project.unirank" --model resources/models/clipart-tiny \
    --adapter-out "$out/clipart-demo" --set full_finetune=true --set num_train_epochs=${EPOCHS:-30} --set learning_rate=1e-3 \
    --set listwise_weight=1.0 --set validation_split=0 --set max_candidates_per_query=30 --set negatives_per_positive=0 \
    --set save_steps=0 --set save_total_limit=1 --json | tail -n 1
"$cli" score --model-version clipart-demo --project "$out/project.unirank" --out "$out/clipart-demo.trec"
"$cli" eval --project "$out/project.unirank" --metrics success_1,recip_rank_cut_10,ndcg_cut_10,map
