// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/eval/report.h"

#include "core/util/error.h"

#include <iomanip>
#include <sstream>

namespace unirank::eval {
namespace {

std::string fixed(double v, int digits = 4)
{
    std::ostringstream s;
    s << std::fixed << std::setprecision(digits) << v;
    return s.str();
}

/// Per-query values of `metric` for the queries both evaluations share, in the same order.
std::pair<std::vector<double>, std::vector<double>> paired(const RunEvaluation &a, const RunEvaluation &b,
                                                           const std::string &metric)
{
    std::map<std::string, double> av;
    const auto va = a.perQueryValues(metric), vb = b.perQueryValues(metric);
    for (std::size_t i = 0; i < a.perQuery.size(); ++i)
        av[a.perQuery[i].queryId] = va[i];
    std::pair<std::vector<double>, std::vector<double>> out;
    for (std::size_t i = 0; i < b.perQuery.size(); ++i)
        if (const auto it = av.find(b.perQuery[i].queryId); it != av.end()) {
            out.first.push_back(it->second);
            out.second.push_back(vb[i]);
        }
    return out;
}

nlohmann::json means(const RunEvaluation &e)
{
    nlohmann::json j = nlohmann::json::object();
    for (std::size_t m = 0; m < e.metrics.size(); ++m)
        j[e.metrics[m]] = e.mean[m];
    return j;
}

} // namespace

Report evaluateRuns(const Qrels &qrels, const std::vector<NamedRun> &runs, const ReportOptions &o)
{
    if (runs.empty())
        throw InputError("nothing to evaluate: no run given");
    Report r;
    std::ostringstream t;
    std::vector<RunEvaluation> evals;
    for (const auto &run : runs)
        evals.push_back(evaluateRun(qrels, run.run, o.eval));
    const auto &metrics = evals.front().metrics;
    std::size_t qrelsQueries = qrels.size();
    r.json["relevance_level"] = o.eval.relevanceLevel;
    r.json["complete"] = o.eval.complete;
    r.json["definitions"] = {
        {"success_k", "1 if a relevant document is in the top k (UniRank's Recall@k)"},
        {"recall_k", "trec_eval recall: relevant documents in the top k / relevant documents"},
        {"recip_rank_cut_k", "reciprocal rank of the first relevant document within the top k (MRR@k)"},
        {"ties", "score descending, then document id descending (trec_eval)"}};
    r.json["runs"] = nlohmann::json::array();
    t << "relevance: grade >= " << o.eval.relevanceLevel << "; Recall@k as UniRank reports it is success_k; "
      << (o.eval.complete ? "queries missing from a run count as 0 (-c)" : "queries missing from a run are left out")
      << "\n\n";
    int width = 14;
    for (const auto &run : runs)
        width = std::max(width, std::min(40, static_cast<int>(run.name.size()) + 2));
    t << std::left << std::setw(20) << "metric";
    for (const auto &run : runs)
        t << std::right << std::setw(width) << run.name;
    t << "\n";
    for (std::size_t m = 0; m < metrics.size(); ++m) {
        t << std::left << std::setw(20) << metrics[m];
        for (const auto &e : evals)
            t << std::right << std::setw(width) << fixed(e.mean[m]);
        t << "\n";
    }
    t << std::left << std::setw(20) << "queries";
    for (const auto &e : evals)
        t << std::right << std::setw(width) << e.evaluatedQueries;
    t << "\n";
    for (std::size_t i = 0; i < runs.size(); ++i) {
        nlohmann::json jr{{"name", runs[i].name}, {"queries", evals[i].evaluatedQueries}, {"mean", means(evals[i])}};
        std::size_t missing = 0;
        for (const auto &[q, docs] : qrels)
            missing += !runs[i].run.contains(q);
        jr["qrels_queries_missing_from_run"] = missing;
        if (missing && !o.eval.complete)
            t << "note: " << runs[i].name << " lacks " << missing << " of " << qrelsQueries
              << " qrels queries (left out; --complete counts them as 0, as trec_eval -c)\n";
        if (o.perQuery) {
            t << "\nper query, " << runs[i].name << ":\n" << std::left << std::setw(20) << "query";
            for (const auto &m : metrics)
                t << std::right << std::setw(std::max<int>(10, static_cast<int>(m.size()) + 2)) << m;
            t << "\n";
            for (const auto &q : evals[i].perQuery) {
                t << std::left << std::setw(20) << q.queryId;
                for (std::size_t m = 0; m < metrics.size(); ++m)
                    t << std::right << std::setw(std::max<int>(10, static_cast<int>(metrics[m].size()) + 2)) << fixed(q.values[m]);
                t << (q.inRun ? "" : "  (not in the run)") << "\n";
            }
            nlohmann::json pq = nlohmann::json::object();
            for (const auto &q : evals[i].perQuery) {
                nlohmann::json v = nlohmann::json::object();
                for (std::size_t m = 0; m < metrics.size(); ++m)
                    v[metrics[m]] = q.values[m];
                pq[q.queryId] = v;
            }
            jr["per_query"] = pq;
        }
        r.json["runs"].push_back(std::move(jr));
    }
    // Paired comparisons against the first run, Holm over the other runs per metric.
    if (runs.size() > 1) {
        t << "\ncompared with " << runs[0].name << " (paired randomisation test, " << o.permutations
          << " permutations, seed " << o.seed << "; Holm over " << runs.size() - 1 << " runs; 95% bootstrap CI)\n";
        r.json["comparisons"] = nlohmann::json::array();
        for (const auto &metric : metrics) {
            std::vector<PairedComparison> cmp;
            std::vector<double> ps;
            for (std::size_t i = 1; i < runs.size(); ++i) {
                const auto [a, b] = paired(evals[0], evals[i], metric);
                cmp.push_back(comparePaired(a, b, o.seed, o.permutations));
                ps.push_back(cmp.back().pValue);
            }
            const auto adjusted = holm(ps);
            for (std::size_t i = 0; i < cmp.size(); ++i) {
                cmp[i].holmP = adjusted[i];
                r.json["comparisons"].push_back({{"metric", metric},
                                                 {"baseline", runs[0].name},
                                                 {"run", runs[i + 1].name},
                                                 {"mean_difference", cmp[i].meanDifference},
                                                 {"p", cmp[i].pValue},
                                                 {"p_holm", cmp[i].holmP},
                                                 {"ci95", {cmp[i].ciLower, cmp[i].ciUpper}}});
                t << "  " << std::left << std::setw(18) << metric << std::setw(width) << runs[i + 1].name
                  << " diff " << std::showpos << fixed(cmp[i].meanDifference) << std::noshowpos << "  p " << fixed(cmp[i].pValue)
                  << "  p_holm " << fixed(cmp[i].holmP) << "  CI [" << fixed(cmp[i].ciLower) << ", "
                  << fixed(cmp[i].ciUpper) << "]\n";
            }
        }
    }
    if (o.modalities) {
        t << "\nby candidate modality (image share in the top " << o.biasCutoff << " vs among relevant):\n";
        for (std::size_t i = 0; i < runs.size(); ++i) {
            auto &jr = r.json["runs"][i];
            const auto split = evaluateByModality(qrels, runs[i].run, *o.modalities, o.eval);
            for (const auto &[modality, e] : split) {
                jr["by_modality"][std::string(toString(modality))] = means(e);
                t << "  " << runs[i].name << " / " << toString(modality) << ":";
                for (std::size_t m = 0; m < e.metrics.size(); ++m)
                    t << " " << e.metrics[m] << "=" << fixed(e.mean[m]);
                t << "\n";
            }
            const auto bias = modalityBias(qrels, runs[i].run, *o.modalities, o.biasCutoff, o.eval.relevanceLevel);
            jr["modality_bias"] = {{"k", bias.k},
                                   {"image_share_top_k", bias.imageShareTopK},
                                   {"image_share_relevant", bias.imageShareRelevant},
                                   {"bias", bias.bias},
                                   {"queries", bias.queries}};
            t << "  " << runs[i].name << " modality bias@" << bias.k << ": images " << fixed(bias.imageShareTopK)
              << " of the top vs " << fixed(bias.imageShareRelevant) << " of the relevant -> "
              << std::showpos << fixed(bias.bias) << std::noshowpos << (bias.bias < 0 ? " (favours text)" : " (favours images)")
              << "\n";
        }
    }
    if (o.preferences) {
        const auto alpha = krippendorffAlpha(*o.preferences);
        r.json["annotator_agreement"] = {{"krippendorff_alpha", alpha.alpha ? nlohmann::json(*alpha.alpha) : nlohmann::json()},
                                         {"units", alpha.units},
                                         {"judgements", alpha.judgements}};
        t << "\nhuman preferences (" << o.preferences->size() << " pairs; Krippendorff's alpha "
          << (alpha.alpha ? fixed(*alpha.alpha, 3) : std::string("n/a")) << " over " << alpha.units
          << " pairs with several annotators):\n";
        for (std::size_t i = 0; i < runs.size(); ++i) {
            const auto a = preferenceAgreement(*o.preferences, runs[i].run);
            r.json["runs"][i]["preference_agreement"] = {{"overall", a.overall()}, {"agreed", a.agreed},
                                                         {"disagreed", a.disagreed}, {"human_ties_excluded", a.excludedTies},
                                                         {"run_ties", a.runTies}, {"not_in_run", a.notInRun},
                                                         {"per_query", a.perQuery}};
            t << "  " << runs[i].name << ": " << fixed(a.overall()) << " agree (" << a.agreed << " of "
              << a.agreed + a.disagreed << "; " << a.excludedTies << " ties excluded, " << a.runTies
              << " tied by the run, " << a.notInRun << " not in the run)\n";
        }
    }
    if (o.calibration) {
        t << "\ncalibration (scores read as logit margins; temperature " << o.temperature << "):\n";
        for (std::size_t i = 0; i < runs.size(); ++i) {
            std::vector<double> margins;
            std::vector<int> labels;
            for (const auto &[q, ranking] : runs[i].run) {
                const auto judged = qrels.find(q);
                if (judged == qrels.end())
                    continue;
                for (const auto &[doc, score] : ranking)
                    if (const auto g = judged->second.find(doc); g != judged->second.end() && g->second >= 0) {
                        margins.push_back(score);
                        labels.push_back(g->second >= o.eval.relevanceLevel ? 1 : 0);
                    }
            }
            if (margins.empty())
                continue;
            const auto c = calibration(applyTemperature(margins, o.temperature), labels);
            const double fitted = fitTemperature(margins, labels);
            nlohmann::json bins = nlohmann::json::array();
            for (const auto &b : c.bins)
                bins.push_back({{"lower", b.lower}, {"upper", b.upper}, {"count", b.count},
                                {"confidence", b.meanConfidence}, {"accuracy", b.accuracy}});
            r.json["runs"][i]["calibration"] = {{"pairs", margins.size()}, {"ece", c.ece}, {"nll", c.nll},
                                                {"temperature", o.temperature}, {"fitted_temperature", fitted},
                                                {"bins", bins}};
            t << "  " << runs[i].name << ": ECE " << fixed(c.ece) << ", NLL " << fixed(c.nll) << " over "
              << margins.size() << " judged pairs; the temperature fitted on these labels is " << fixed(fitted, 3)
              << "\n";
        }
    }
    r.text = t.str();
    return r;
}

} // namespace unirank::eval
