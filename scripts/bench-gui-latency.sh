#!/usr/bin/env bash
# Measures the desktop app's event-loop latency while the Rank tab scores every query of the demo
# project with the tiny model (unirank --bench-latency), under Xvfb with the real xcb platform, once
# per scoring-thread setting given (default: 0 = libtorch's default, 1). Prints one JSON line each.
# Builds the release preset and the demo project first when they are missing (see screenshots.sh).
set -euo pipefail
cd "$(dirname "$0")/.."
threads=("${@:-0 1}")
scripts/install-deps.sh >/dev/null
cmake --preset release >/dev/null
cmake --build --preset release >/dev/null
project=build/demo/demo.unirank
if [ ! -f "$project" ]; then
  mkdir -p build/demo
  build/release/app/unirank-cli init "$project"
  build/release/app/unirank-cli import "$project" --dataset resources/demo/clipart-smoke
fi
build/release/app/unirank-cli stats "$project" >/dev/null
if ! build/release/app/unirank-cli stats "$project" --json | grep -q '"model_versions": [1-9]'; then
  build/release/app/unirank-cli score --model resources/models/tiny-random --project "$project" --out build/demo/tiny-random.trec
fi
settings=$(mktemp -d)
trap 'rm -rf "$settings"' EXIT
for t in ${threads[*]}; do
  # A benchmark may unset the machine's OpenBLAS safety settings for itself (see README).
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE XDG_CONFIG_HOME="$settings" QT_QPA_PLATFORM=xcb \
    xvfb-run -a -s "-screen 0 1600x1000x24" \
    build/release/app/unirank --bench-latency --version-name tiny-random --threads "$t" "$project" 2>/dev/null | grep '^{'
done
