// SPDX-License-Identifier: GPL-3.0-or-later
// Ranking metrics with trec_eval's semantics (usnistgov/trec_eval 10.0), so numbers agree with it:
// - a run is sorted by score descending, ties broken by document id in *descending* byte order
//   (trec_eval's comp_sim_docno); the rank column of the file is ignored;
// - relevant = qrels grade >= relevanceLevel (default 1); grades below 0 are "judged unjudged";
// - queries of the qrels are evaluated (run queries without qrels are ignored); a qrels query missing
//   from the run is left out of the mean by default (trec_eval 9; trec_eval 10 refuses such input
//   without -c), or counted with every measure 0 with `complete` (-c); queries without a relevant
//   document are evaluated (their recall, map and nDCG are 0);
// - P_k divides by k even when fewer than k documents were retrieved; recall_k and map divide by the
//   number of relevant documents in the qrels (0 when there are none);
// - ndcg_cut_k: gain = the qrels grade (> 0, whatever the relevance level), discount log2(rank + 1),
//   ideal DCG from the qrels grades sorted descending and cut at k.
// Names: P_k, recall_k, success_k (1 if a relevant document is in the top k), ndcg_cut_k, map,
// recip_rank (no cutoff), recip_rank_cut_k (MRR@k; not a trec_eval measure), num_ret, num_rel,
// num_rel_ret. "Recall@1" as UniRank reports it is success_1 (hit rate at 1); recall_1 is trec_eval's
// recall (relevant retrieved in the top 1 / relevant), which differs when a query has several.
//
// Pure functions, thread-safe. Errors: InputError for an unknown metric name.
#pragma once

#include "core/data/types.h"

#include <map>
#include <string>
#include <vector>

namespace unirank::eval {

using Qrels = std::map<std::string, std::map<std::string, int>>;                 ///< query -> doc -> grade
using Ranking = std::vector<std::pair<std::string, double>>;                        ///< (doc, score)
using Run = std::map<std::string, Ranking>;                                         ///< query -> ranking

Qrels toQrels(const std::vector<QrelEntry> &entries);
Run toRun(const std::vector<RunEntry> &entries);
/// trec_eval's order: score descending, then document id descending.
Ranking sortedLikeTrecEval(Ranking ranking);

struct EvalOptions {
    int relevanceLevel = 1;
    bool complete = false; ///< trec_eval -c
    std::vector<std::string> metrics; ///< empty = defaultMetrics()
};

std::vector<std::string> defaultMetrics();
void checkMetricName(const std::string &name); ///< throws InputError for an unknown name

struct QueryValues {
    std::string queryId;
    std::vector<double> values; ///< in the order of RunEvaluation::metrics
    bool inRun = true;          ///< false: a qrels query missing from the run (only with `complete`)
};

struct RunEvaluation {
    std::vector<std::string> metrics;
    std::vector<QueryValues> perQuery; ///< sorted by query id
    std::vector<double> mean;          ///< over evaluated queries (all qrels queries with `complete`)
    std::size_t evaluatedQueries = 0;
    double value(const std::string &metric) const;                 ///< mean; throws for an unknown name
    std::vector<double> perQueryValues(const std::string &metric) const;
};

RunEvaluation evaluateRun(const Qrels &qrels, const Run &run, const EvalOptions &options = {});

} // namespace unirank::eval
