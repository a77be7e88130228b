#!/usr/bin/env bash
# Takes real-window screenshots of every tab of the desktop app (Project, Rank, Label, Train,
# Evaluate) under a virtual X server (Xvfb), into docs/screenshots/ (or the folder given).
# Builds the release preset and a scratch demo project (build/screenshots/demo.unirank: `unirank-cli
# demo`), runs a short instruction-tuning round and an alignment round on it with the CLI (the
# commands the Train tab runs), so the Train tab has charts and the Evaluate tab three versions.
# Idempotent; installs missing Debian packages first. Uses a scratch settings folder, never yours.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-docs/screenshots}
scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release

cli=build/release/app/unirank-cli
work=build/screenshots
project=$work/demo.unirank
mkdir -p "$work"
"$cli" demo "$project" --replace >/dev/null
export OMP_NUM_THREADS=1
# From clipart-tiny, which has not seen the demo's queries (clipart-demo has learnt them all).
"$cli" train sft --project "$project" --model resources/models/clipart-tiny --adapter-out "$work/demo.models/sft-clipart-tiny" \
  --set num_train_epochs=6 --set learning_rate=1e-3 --set r=16 --set lora_alpha=32 --set listwise_weight=1.0 --json 2>/dev/null |
  tail -n 1
"$cli" score --project "$project" --model-version sft-clipart-tiny 2>/dev/null
"$cli" train align --project "$project" --model resources/models/clipart-tiny --adapter "$work/demo.models/sft-clipart-tiny" \
  --adapter-out "$work/demo.models/pl-grpo-sft-clipart-tiny" --set learning_rate=2e-4 --set num_train_epochs=6 \
  --set eval_steps=6 --json 2>/dev/null | tail -n 1
"$cli" score --project "$project" --model-version pl-grpo-sft-clipart-tiny 2>/dev/null

settings=$(mktemp -d)
trap 'rm -rf "$settings"' EXIT
XDG_CONFIG_HOME="$settings" QT_QPA_PLATFORM=xcb \
  xvfb-run -a -s "-screen 0 1600x1000x24" \
  build/release/app/unirank --screenshots "$out" --version-name clipart-demo "$project"
