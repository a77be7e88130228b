#!/usr/bin/env bash
# Trains resources/models/clipart-tiny with UniRank's own pipeline: instruction tuning (every weight)
# of resources/models/tiny-random on the clipart-hybrid dev split without the 20 smoke queries (the
# demo's and the tests' data stay unseen), 10 epochs, one thread (the weights then repeat bit for bit
# on the same libtorch build). About 20 minutes on this 2-core machine.
#
#   scripts/train-clipart-tiny.sh [DEV_DATASET [OUT]]   default ../shared/data/clipart-hybrid/dev,
#                                                       build/clipart-tiny
# Then copy OUT/model to resources/models/clipart-tiny (the README there is kept by hand).
set -euo pipefail
cd "$(dirname "$0")/.."
data=$(realpath "${1:-../shared/data/clipart-hybrid/dev}")
out=${2:-build/clipart-tiny}
cli=$PWD/build/release/app/unirank-cli
smoke=$PWD/resources/demo/clipart-smoke
rm -rf "$out"
mkdir -p "$out"
out=$(realpath "$out")

sed -n 's/.*"_id": *"\([^"]*\)".*/\1/p' "$smoke/queries.jsonl" > "$out/smoke.ids"
scripts/beir-subset.sh --except "$data" "$out/data" "$out/smoke.ids"
echo "training queries: $(wc -l < "$out/data/queries.jsonl") (dev minus $(wc -l < "$out/smoke.ids") smoke queries)"

"$cli" init "$out/project.unirank"
"$cli" import "$out/project.unirank" --dataset "$out/data" --collection dev-minus-smoke
cat > "$out/sft.json" <<'EOF'
{"full_finetune": true, "num_train_epochs": 10, "learning_rate": 1e-3, "listwise_weight": 1.0,
 "validation_split": 0.05, "save_steps": 1000}
EOF
OMP_NUM_THREADS=1 "$cli" train sft --project "$out/project.unirank" --model resources/models/tiny-random \
    --config "$out/sft.json" --adapter-out "$out/model" --json | tail -n 1
