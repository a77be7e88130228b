#!/usr/bin/env bash
# Builds the libFuzzer targets (fuzz preset: clang 16, ASan + UBSan) and fuzzes each parser of outside
# data for SECONDS (default 60) with CTest's `fuzz` label; prints a table of executions and outcomes.
# A crash leaves its input in build/fuzz/tests/fuzz/work/<target>/ and fails the run; add the input to
# tests/fuzz/corpus/<target>/ with the fix. Usage: scripts/run-fuzz.sh [SECONDS] [ctest args...]
# Idempotent; installs clang 16 and libFuzzer (Debian packages) first.
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-60}
shift || true
scripts/install-deps.sh --fuzz
cmake --preset fuzz
cmake --build --preset fuzz
rm -f build/fuzz/tests/fuzz/work/*/summary.tsv
status=0
UNIRANK_FUZZ_SECONDS=$seconds ctest --preset fuzz -j2 -L fuzz "$@" || status=$?
echo
echo "| target | seconds | executions | corpus | result |"
echo "|---|---|---|---|---|"
for f in build/fuzz/tests/fuzz/work/*/summary.tsv; do
  [ -f "$f" ] || continue
  IFS=$'\t' read -r name secs execs corpus rc < "$f"
  crashes=$(find "$(dirname "$f")" -maxdepth 1 -name 'crash-*' -o -maxdepth 1 -name 'leak-*' -o -maxdepth 1 -name 'timeout-*' -o -maxdepth 1 -name 'oom-*' | wc -l)
  result=$([ "$rc" = 0 ] && echo "no crash" || echo "FAILED (exit $rc, $crashes artifacts)")
  echo "| $name | $secs | $execs | $corpus | $result |"
done
exit $status
