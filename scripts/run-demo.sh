#!/usr/bin/env bash
# Builds UniRank Studio (release preset) and opens the desktop app on the demo project.
#
# The demo project (build/demo/demo.unirank) is built by `unirank-cli demo`: it imports the embedded
# data set (resources/demo/clipart-smoke: 20 queries, each with a first-stage list of 30 candidates,
# text snippets and public-domain clip-art images), reranks every list with the demo model
# (resources/models/clipart-demo, trained by our own pipeline: scripts/train-demo-model.sh), stores the
# run and evaluates it against the labels. The script then exports the judgements and both runs, and
# checks the model code against the Hugging Face reference outputs shipped with the tests.
#
# With a display ($DISPLAY or $WAYLAND_DISPLAY) the desktop app opens on the project; without one (or
# with UNIRANK_NO_GUI=1) the command-line demo above is the whole job. Idempotent: installs missing
# Debian packages, rebuilds the demo project each time.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/install-deps.sh
cmake --preset release
# Only what the demo needs: the app and the CLI (scripts/run-tests.sh builds the tests and tools too).
cmake --build --preset release --target unirank unirank-cli

cli=build/release/app/unirank-cli
out=build/demo
mkdir -p "$out"
echo "== building the demo project: import, rank with the demo model, evaluate"
"$cli" demo "$out/demo.unirank" --replace
"$cli" stats "$out/demo.unirank"
echo "== exporting the judgements (TREC qrels) and both rankings (TREC runs)"
"$cli" export "$out/demo.unirank" --qrels "$out/qrels.txt"
"$cli" export "$out/demo.unirank" --run "$out/first-stage.trec" --model-version first-stage
"$cli" export "$out/demo.unirank" --run "$out/clipart-demo.trec" --model-version clipart-demo
echo "== Qwen2-VL: parity with the Hugging Face reference on the tiny golden checkpoint"
golden=tests/data/golden/qwen2vl
"$cli" parity --model "$golden/model_a" --golden "$golden" 2>/dev/null | tail -n 1

if [ -z "${UNIRANK_NO_GUI:-}" ] && [ -n "${DISPLAY:-}${WAYLAND_DISPLAY:-}" ]; then
  echo "== opening the desktop app on $out/demo.unirank"
  exec build/release/app/unirank "$out/demo.unirank"
fi
echo "demo project: $out/demo.unirank (no display here; open it with build/release/app/unirank $out/demo.unirank)"
