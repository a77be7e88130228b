#!/usr/bin/env bash
# Runs one libFuzzer target for a bounded time: run-fuzzer.sh BINARY SEED_CORPUS WORK_DIR
# Time: $UNIRANK_FUZZ_SECONDS (default 60). New inputs go to WORK_DIR/corpus (the checked-in seed corpus
# is only read); a crashing input is kept as WORK_DIR/crash-* (or leak-*, timeout-*, oom-*) and the run
# fails. WORK_DIR/summary.tsv gets: target, seconds, executions, corpus size, exit status.
set -uo pipefail
bin=$1 seeds=$2 work=$3
seconds=${UNIRANK_FUZZ_SECONDS:-60}
mkdir -p "$work/corpus"
"$bin" -max_total_time="$seconds" -timeout=20 -rss_limit_mb=4096 -max_len=65536 \
  -print_final_stats=1 -artifact_prefix="$work/" "$work/corpus" "$seeds" 2>&1 | tee "$work/fuzz.log" | tail -n 40
rc=${PIPESTATUS[0]}
execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/fuzz.log" | tail -1)
corpus=$(find "$work/corpus" "$seeds" -type f | wc -l)
printf '%s\t%s\t%s\t%s\t%s\n' "$(basename "$bin")" "$seconds" "${execs:-0}" "$corpus" "$rc" > "$work/summary.tsv"
exit "$rc"
