#!/usr/bin/env bash
# Writes BEIR folder DST from SRC, keeping the queries whose ids IDS lists (one per line), or with
# --except those it does not list: queries.jsonl, qrels.tsv (header kept) and run.trec filtered by
# query, corpus.jsonl and images/ copied whole (import refuses symlinks that leave the folder).
#
#   scripts/beir-subset.sh [--except] SRC DST IDS
set -euo pipefail
except=0
if [ "${1:-}" = "--except" ]; then except=1; shift; fi
src=$1 dst=$2 ids=$3
mkdir -p "$dst"
awk -v except="$except" 'NR == FNR { s[$1] = 1; next }
    { id = $0; sub(/.*"_id": *"/, "", id); sub(/".*/, "", id); if ((id in s) != except) print }' \
    "$ids" "$src/queries.jsonl" > "$dst/queries.jsonl"
sed -n 's/.*"_id": *"\([^"]*\)".*/\1/p' "$dst/queries.jsonl" > "$dst/.ids"
awk 'NR == FNR { q[$1] = 1; next } FNR == 1 || ($1 in q)' "$dst/.ids" "$src/qrels.tsv" > "$dst/qrels.tsv"
awk 'NR == FNR { q[$1] = 1; next } ($1 in q)' "$dst/.ids" "$src/run.trec" > "$dst/run.trec"
rm "$dst/.ids"
cp "$src/corpus.jsonl" "$dst/corpus.jsonl"
rm -rf "$dst/images"
cp -r "$src/images" "$dst/images"
