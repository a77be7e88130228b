#!/usr/bin/env bash
# Builds UniRank Studio (release preset) and runs the main job on the embedded demo data set
# (resources/demo/clipart-smoke, 20 queries over 515 text and image candidates): creates a project,
# imports the data set, shows what it holds, and exports qrels, the first-stage run and the dataset;
# then checks the Qwen2-VL implementation against the reference outputs shipped with the tests,
# preprocesses and tokenizes one demo candidate the way the model sees it, and reranks every list with
# the tiny model (random weights until a later issue trains it), storing the score run in the project,
# and evaluates both rankings against the labels (trec_eval metrics, significance, modality bias).
# Everything lands in build/demo/. Idempotent; installs missing Debian packages first.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release
cmake --build --preset release

cli=build/release/app/unirank-cli
out=build/demo
rm -rf "$out"
mkdir -p "$out"
"$cli" init "$out/demo.unirank"
"$cli" import "$out/demo.unirank" --dataset resources/demo/clipart-smoke
"$cli" stats "$out/demo.unirank"
"$cli" export "$out/demo.unirank" --qrels "$out/qrels.txt"
"$cli" export "$out/demo.unirank" --run "$out/first-stage.trec" --model-version first-stage
"$cli" export "$out/demo.unirank" --dataset "$out/exported-dataset"

golden=tests/data/golden/qwen2vl
echo "== Qwen2-VL: parity with the Hugging Face reference on the tiny golden checkpoint"
"$cli" parity --model "$golden/model_a" --golden "$golden" 2>/dev/null | tail -n 1
image=$(ls resources/demo/clipart-smoke/images | head -n 1)
"$cli" preprocess --image "resources/demo/clipart-smoke/images/$image" --config "$golden/model_a/preprocessor_config.json" \
  --out "$out/$image.safetensors"
echo '"A red apple on a table"' | "$cli" tokenize --tokenizer "$golden/tiny_tokenizer/tokenizer.json"
echo "== reranking the first-stage lists with resources/models/tiny-random"
"$cli" score --model resources/models/tiny-random --project "$out/demo.unirank" --out "$out/tiny-random.trec"
echo "== evaluating the first stage and the tiny model against the labels (stored with the score run)"
"$cli" eval --project "$out/demo.unirank" --metrics success_1,success_10,recall_10,ndcg_cut_10,map
echo "demo project: $out/demo.unirank (open it with build/release/app/unirank $out/demo.unirank)"
