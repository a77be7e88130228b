#!/usr/bin/env bash
# Measures the desktop app's event-loop latency while the Rank tab scores every query of the demo
# project with the tiny model (unirank --bench-latency), under Xvfb with the real xcb platform, once
# per scoring-thread setting given (default: 0 = libtorch's default, 1), then once more under the full
# load: scoring, a training round started from the Train tab, a graded label every 250 ms from the
# GUI, and a second process writing to the same project (repeated imports, each holding the write
# lock for its transaction). Prints one JSON line per run; the loaded run's has "second_writer".
# Runs on a scratch demo project (`unirank-cli demo`) with its clipart-demo model.
set -euo pipefail
cd "$(dirname "$0")/.."
threads=("${@:-0 1}")
scripts/install-deps.sh >/dev/null
cmake --preset release >/dev/null
cmake --build --preset release --target unirank unirank-cli >/dev/null
work=$(mktemp -d)
writer=
cleanup() {
  [ -n "$writer" ] && kill "$writer" 2>/dev/null && wait "$writer" 2>/dev/null
  rm -rf "$work"
}
trap cleanup EXIT
settings=$work/settings
project=$work/bench.unirank
build/release/app/unirank-cli demo "$project" --replace >/dev/null 2>&1 # a scratch demo project
bench() { # bench ARGS...: one GUI run on the scratch project; prints its JSON line
  # A benchmark may unset the machine's OpenBLAS safety settings for itself (see README).
  env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE XDG_CONFIG_HOME="$settings" QT_QPA_PLATFORM=xcb \
    xvfb-run -a -s "-screen 0 1600x1000x24" \
    build/release/app/unirank --bench-latency --version-name clipart-demo "$@" "$project" 2>"$work/gui.err" | grep '^{' \
    || { cat "$work/gui.err" >&2; return 1; }
}
for t in ${threads[*]}; do
  bench --threads "$t"
done

# The loaded run: a second process imports the smoke set again and again into the same project.
(
  i=0
  while :; do
    i=$((i + 1))
    build/release/app/unirank-cli import "$project" --dataset resources/demo/clipart-smoke --collection "writer-$i" \
      >/dev/null 2>>"$work/writer.err" || true
    echo "$i" >"$work/writer.count"
    sleep 0.2
  done
) &
writer=$!
rm -rf "$work/bench.cache" # the runs above cached every image: score them afresh
line=$(bench --threads 0 --with-training --with-labels)
kill "$writer" 2>/dev/null && wait "$writer" 2>/dev/null || true
writer=
imports=$(cat "$work/writer.count" 2>/dev/null || echo 0)
busy=$(grep -c "busy:" "$work/writer.err" 2>/dev/null || true)
echo "${line%\}}, \"second_writer\": {\"imports\": ${imports}, \"busy_failures\": ${busy:-0}}}"
