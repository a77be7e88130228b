// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/eval/metrics.h"

#include "core/util/error.h"

#include <algorithm>
#include <charconv>
#include <cmath>

namespace unirank::eval {
namespace {

struct Parsed {
    enum Kind { P, Recall, Success, Ndcg, Map, RecipRank, NumRet, NumRel, NumRelRet } kind;
    long cutoff = 0; ///< 0 = none
};

Parsed parse(const std::string &name)
{
    const auto withCut = [&](std::string_view prefix, Parsed::Kind kind) -> std::optional<Parsed> {
        if (!std::string_view(name).starts_with(prefix))
            return std::nullopt;
        long k = 0;
        const auto rest = std::string_view(name).substr(prefix.size());
        const auto [ptr, ec] = std::from_chars(rest.data(), rest.data() + rest.size(), k);
        if (ec != std::errc() || ptr != rest.data() + rest.size() || k <= 0)
            return std::nullopt;
        return Parsed{kind, k};
    };
    if (name == "map")
        return {Parsed::Map};
    if (name == "recip_rank")
        return {Parsed::RecipRank};
    if (name == "num_ret")
        return {Parsed::NumRet};
    if (name == "num_rel")
        return {Parsed::NumRel};
    if (name == "num_rel_ret")
        return {Parsed::NumRelRet};
    for (const auto &[prefix, kind] : {std::pair{"P_", Parsed::P}, std::pair{"recall_", Parsed::Recall},
                                       std::pair{"success_", Parsed::Success}, std::pair{"ndcg_cut_", Parsed::Ndcg},
                                       std::pair{"recip_rank_cut_", Parsed::RecipRank}})
        if (auto p = withCut(prefix, kind))
            return *p;
    throw InputError("unknown metric '" + name +
                     "' (known: P_k, recall_k, success_k, ndcg_cut_k, map, recip_rank, recip_rank_cut_k, num_ret, "
                     "num_rel, num_rel_ret)");
}

/// One query's judged ranking: grades in rank order (-1 = not in qrels), grade histogram of the qrels.
struct Judged {
    std::vector<int> grades;
    std::map<int, long> levels; ///< grade -> count over the qrels (grades >= 0)
    long numRel = 0;
};

double compute(const Parsed &m, const Judged &j, int relevanceLevel)
{
    const auto n = static_cast<long>(j.grades.size());
    const long k = m.cutoff > 0 ? std::min(m.cutoff, n) : n;
    const auto relevant = [&](long i) { return j.grades[static_cast<std::size_t>(i)] >= relevanceLevel; };
    switch (m.kind) {
    case Parsed::NumRet:
        return static_cast<double>(n);
    case Parsed::NumRel:
        return static_cast<double>(j.numRel);
    case Parsed::NumRelRet: {
        long c = 0;
        for (long i = 0; i < n; ++i)
            c += relevant(i);
        return static_cast<double>(c);
    }
    case Parsed::P:
    case Parsed::Recall:
    case Parsed::Success: {
        long c = 0;
        for (long i = 0; i < k; ++i)
            c += relevant(i);
        if (m.kind == Parsed::P)
            return static_cast<double>(c) / static_cast<double>(m.cutoff);
        if (m.kind == Parsed::Success)
            return c > 0 ? 1.0 : 0.0;
        return j.numRel > 0 ? static_cast<double>(c) / static_cast<double>(j.numRel) : 0.0;
    }
    case Parsed::RecipRank:
        for (long i = 0; i < k; ++i)
            if (relevant(i))
                return 1.0 / static_cast<double>(i + 1);
        return 0.0;
    case Parsed::Map: {
        if (j.numRel == 0)
            return 0.0;
        double sum = 0;
        long found = 0;
        for (long i = 0; i < n; ++i)
            if (relevant(i))
                sum += static_cast<double>(++found) / static_cast<double>(i + 1);
        return sum / static_cast<double>(j.numRel);
    }
    case Parsed::Ndcg: {
        const auto discount = [](long i) { return std::log2(static_cast<double>(i + 2)); }; // rank i+1
        double dcg = 0;
        for (long i = 0; i < k; ++i)
            if (const int g = j.grades[static_cast<std::size_t>(i)]; g > 0)
                dcg += g / discount(i);
        double ideal = 0;
        long i = 0;
        for (auto it = j.levels.rbegin(); it != j.levels.rend() && i < m.cutoff; ++it) {
            if (it->first <= 0)
                break;
            for (long c = 0; c < it->second && i < m.cutoff; ++c, ++i)
                ideal += it->first / discount(i);
        }
        return ideal > 0 ? dcg / ideal : 0.0;
    }
    }
    return 0;
}

} // namespace

Qrels toQrels(const std::vector<QrelEntry> &entries)
{
    Qrels q;
    for (const auto &e : entries)
        q[e.queryId][e.docId] = e.grade;
    return q;
}

Run toRun(const std::vector<RunEntry> &entries)
{
    Run r;
    for (const auto &e : entries)
        r[e.queryId].emplace_back(e.docId, e.score);
    return r;
}

Ranking sortedLikeTrecEval(Ranking ranking)
{
    std::sort(ranking.begin(), ranking.end(), [](const auto &a, const auto &b) {
        if (a.second != b.second)
            return a.second > b.second;
        return a.first > b.first; // strcmp(p2->docno, p1->docno): descending document id
    });
    return ranking;
}

std::vector<std::string> defaultMetrics()
{
    return {"success_1", "success_5", "success_10", "recall_1", "recall_5", "recall_10", "P_1", "P_5", "P_10",
            "recip_rank_cut_10", "recip_rank", "ndcg_cut_5", "ndcg_cut_10", "map"};
}

void checkMetricName(const std::string &name)
{
    parse(name);
}

double RunEvaluation::value(const std::string &metric) const
{
    const auto it = std::find(metrics.begin(), metrics.end(), metric);
    if (it == metrics.end())
        throw InputError("metric '" + metric + "' was not computed");
    return mean[static_cast<std::size_t>(it - metrics.begin())];
}

std::vector<double> RunEvaluation::perQueryValues(const std::string &metric) const
{
    const auto it = std::find(metrics.begin(), metrics.end(), metric);
    if (it == metrics.end())
        throw InputError("metric '" + metric + "' was not computed");
    std::vector<double> out;
    for (const auto &q : perQuery)
        out.push_back(q.values[static_cast<std::size_t>(it - metrics.begin())]);
    return out;
}

RunEvaluation evaluateRun(const Qrels &qrels, const Run &run, const EvalOptions &options)
{
    RunEvaluation out;
    out.metrics = options.metrics.empty() ? defaultMetrics() : options.metrics;
    std::vector<Parsed> parsed;
    for (const auto &m : out.metrics)
        parsed.push_back(parse(m));
    out.mean.assign(out.metrics.size(), 0.0);
    for (const auto &[queryId, judgements] : qrels) {
        const auto it = run.find(queryId);
        if (it == run.end() && !options.complete)
            continue;
        Judged j;
        for (const auto &[doc, grade] : judgements) {
            if (grade >= 0)
                ++j.levels[grade];
            if (grade >= options.relevanceLevel)
                ++j.numRel;
        }
        QueryValues qv{queryId, {}, it != run.end()};
        if (it != run.end())
            for (const auto &[doc, score] : sortedLikeTrecEval(it->second)) {
                const auto g = judgements.find(doc);
                j.grades.push_back(g == judgements.end() ? -1 : g->second);
            }
        for (const auto &p : parsed)
            qv.values.push_back(compute(p, j, options.relevanceLevel));
        out.perQuery.push_back(std::move(qv));
    }
    out.evaluatedQueries = out.perQuery.size();
    for (const auto &q : out.perQuery)
        for (std::size_t m = 0; m < out.mean.size(); ++m)
            out.mean[m] += q.values[m];
    if (out.evaluatedQueries > 0)
        for (auto &v : out.mean)
            v /= static_cast<double>(out.evaluatedQueries);
    return out;
}

} // namespace unirank::eval
