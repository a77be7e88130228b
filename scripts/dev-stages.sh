#!/usr/bin/env bash
# The stage table of the docs: base -> instruction tuning -> preference alignment (DPO and PL-GRPO) on
# a BEIR dev split, split by query (every 4th query, in file order, is a test query; the rest train).
# Trains on the train queries' labels only (SFT holds out its own validation share of them), scores the
# test queries' first-stage lists with every stage, and evaluates them like trec_eval (Recall@1 =
# success_1, MRR@10 = recip_rank_cut_10, nDCG@10 = ndcg_cut_10) with the modality bias@10.
#
#   scripts/dev-stages.sh [DATASET [OUT]]   default ../shared/data/clipart-hybrid/dev, build/dev-stages
#
# Configs: SFT_CONFIG, DPO_CONFIG, GRPO_CONFIG (JSON files) override the ones below. Needs a release
# build (cmake --build --preset release). Long: about 40 minutes on two CPU cores with the tiny model.
set -euo pipefail
cd "$(dirname "$0")/.."
data=$(realpath "${1:-../shared/data/clipart-hybrid/dev}")
out=${2:-build/dev-stages}
cli=${UNIRANK_CLI:-$PWD/build/release/app/unirank-cli}
model=$PWD/resources/models/tiny-random
mkdir -p "$out"
out=$(realpath "$out")

if [ ! -f "$out/project.unirank" ]; then
    rm -rf "$out/train" "$out/test" "$out/project.media"
    sed -n 's/.*"_id": *"\([^"]*\)".*/\1/p' "$data/queries.jsonl" | awk 'NR % 4 == 0' > "$out/test.ids"
    scripts/beir-subset.sh "$data" "$out/test" "$out/test.ids"
    scripts/beir-subset.sh --except "$data" "$out/train" "$out/test.ids"
    "$cli" init "$out/project.unirank"
    "$cli" import "$out/project.unirank" --dataset "$out/train" --collection dev-train
fi
echo "train queries $(wc -l < "$out/train/queries.jsonl"), test queries $(wc -l < "$out/test/queries.jsonl")"

config() { # config NAME DEFAULT_JSON [OVERRIDE_FILE]
    if [ -n "${3:-}" ]; then cp "$3" "$out/$1.json"; else echo "$2" > "$out/$1.json"; fi
}
config sft '{"full_finetune": true, "num_train_epochs": 15, "learning_rate": 1e-3, "listwise_weight": 1.0,
             "validation_split": 0.1, "save_steps": 1000}' "${SFT_CONFIG:-}"
config dpo '{"learning_rate": 2e-4, "derived_pairs_per_query": 8, "mined_pairs_per_query": 4, "validation_split": 0.1,
             "save_steps": 100}' "${DPO_CONFIG:-}"
config grpo '{"learning_rate": 2e-3, "num_train_epochs": 2, "per_device_train_batch_size": 2, "num_iterations": 2,
              "validation_split": 0.1, "save_steps": 100}' "${GRPO_CONFIG:-}"

run_stage() { # run_stage NAME COMMAND... ; resumes an interrupted stage, skips a finished one
    if [ -f "$out/$1.summary.json" ]; then return; fi
    local resume=()
    if [ -d "$out/$1.checkpoints" ]; then resume=(--resume); fi
    "${@:2}" "${resume[@]}" --json 2> "$out/$1.log" | tail -n 1 > "$out/$1.summary.tmp"
    mv "$out/$1.summary.tmp" "$out/$1.summary.json"
}
# Instruction tuning trains every weight of the tiny model (its random weights know nothing to keep);
# alignment puts LoRA on the tuned model, which is the frozen reference.
run_stage sft "$cli" train sft --project "$out/project.unirank" --model "$model" --config "$out/sft.json" \
    --adapter-out "$out/sft"
run_stage dpo "$cli" train align --project "$out/project.unirank" --model "$out/sft" \
    --method dpo --config "$out/dpo.json" --adapter-out "$out/dpo"
run_stage pl-grpo "$cli" train align --project "$out/project.unirank" --model "$out/sft" \
    --method pl-grpo --config "$out/grpo.json" --adapter-out "$out/pl-grpo"

score() { # score NAME MODEL [ADAPTER]
    if [ -f "$out/$1.trec" ]; then return; fi
    "$cli" score --dataset "$out/test" --model "$2" ${3:+--adapter "$3"} --tag "$1" --out "$out/$1.trec"
}
score base "$model"
score sft "$out/sft"
score dpo "$out/sft" "$out/dpo"
score pl-grpo "$out/sft" "$out/pl-grpo"
"$cli" eval --qrels "$out/test/qrels.tsv" --corpus "$out/test" --run "$out/test/run.trec" --run "$out/base.trec" \
    --run "$out/sft.trec" --run "$out/dpo.trec" --run "$out/pl-grpo.trec" \
    --metrics success_1,recip_rank_cut_10,ndcg_cut_10 --json > "$out/eval.json"
"$cli" eval --qrels "$out/test/qrels.tsv" --corpus "$out/test" --run "$out/test/run.trec" --run "$out/base.trec" \
    --run "$out/sft.trec" --run "$out/dpo.trec" --run "$out/pl-grpo.trec" \
    --metrics success_1,recip_rank_cut_10,ndcg_cut_10 | tee "$out/eval.txt"
