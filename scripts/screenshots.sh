#!/usr/bin/env bash
# Takes real-window screenshots of each tab of the desktop app (Project, Rank, Label, Evaluate) on the
# demo project, under a virtual X server (Xvfb), into docs/screenshots/ (or the folder given).
# Builds the release preset and creates the demo project (build/demo/demo.unirank, the same steps as
# scripts/run-demo.sh: import the embedded smoke set, score it with the tiny model) when it is missing.
# Idempotent; installs missing Debian packages first. Uses a scratch settings folder, never yours.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-docs/screenshots}
scripts/install-deps.sh
cmake --preset release >/dev/null
cmake --build --preset release

cli=build/release/app/unirank-cli
project=build/demo/demo.unirank
if [ ! -f "$project" ]; then
  mkdir -p build/demo
  "$cli" init "$project"
  "$cli" import "$project" --dataset resources/demo/clipart-smoke
  "$cli" score --model resources/models/tiny-random --project "$project" --out build/demo/tiny-random.trec
fi

settings=$(mktemp -d)
trap 'rm -rf "$settings"' EXIT
XDG_CONFIG_HOME="$settings" QT_QPA_PLATFORM=xcb \
  xvfb-run -a -s "-screen 0 1600x1000x24" \
  build/release/app/unirank --screenshots "$out" --version-name tiny-random "$project"
