#!/usr/bin/env bash
# Outputs of the real trec_eval for tests/eval/test_trec_eval_outputs.cpp, and the commands that made
# them. trec_eval is built from source (usnistgov/trec_eval v10.0, commit f425365; not vendored):
#   git clone https://github.com/usnistgov/trec_eval && cd trec_eval && git checkout f425365 && make
#   tests/data/trec_eval/make-outputs.sh /path/to/trec_eval/trec_eval
# Inputs: fixture.qrels/fixture.run (a score tie, grades 0-3, a negative grade, an unjudged document,
# a qrels query missing from the run, a run query missing from the qrels, a query without relevant
# documents, a one-candidate list); smoke.qrels (the clipart smoke set's qrels.tsv in TREC form) with
# three runs of its 20 first-stage lists: BM25 (run.trec), BM25 rounded to many ties, clipart-tiny's.
set -euo pipefail
trec_eval=${1:?usage: make-outputs.sh TREC_EVAL}
cd "$(dirname "$0")"
measures=(-m P -m recall -m success -m ndcg_cut -m map -m recip_rank -m num_ret -m num_rel -m num_rel_ret)
run() { # run OUTPUT ARGS...
    echo "trec_eval ${*:2}" > "$1"
    "$trec_eval" "${@:2}" >> "$1"
}
run fixture.c.out -c -q "${measures[@]}" fixture.qrels fixture.run
run fixture.c.l2.out -c -q -l2 "${measures[@]}" fixture.qrels fixture.run
for r in bm25 ties model; do
    run smoke-$r.out -q "${measures[@]}" smoke.qrels smoke-$r.run
    run smoke-$r.l2.out -q -l2 "${measures[@]}" smoke.qrels smoke-$r.run
    # -M 10: only the first 10 documents of each list count; recip_rank is then UniRank's recip_rank_cut_10.
    run smoke-$r.M10.out -q -M 10 -m recip_rank smoke.qrels smoke-$r.run
done
"$trec_eval" -v 2>&1 | head -n 1 > trec_eval-version.txt
