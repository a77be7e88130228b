#!/usr/bin/env bash
# Builds UniRank Studio (release preset) and runs the main job on the embedded demo data set
# (resources/demo/clipart-smoke, 20 queries over 515 text and image candidates): creates a project,
# imports the data set, shows what it holds, and exports qrels, the first-stage run and the dataset.
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
echo "demo project: $out/demo.unirank (open it with build/release/app/unirank $out/demo.unirank)"
