// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/eval/analysis.h"

#include "core/formats/line_reader.h"
#include "core/util/error.h"

#include <set>

namespace unirank::eval {
namespace {

bool isImage(const Modalities &m, const std::string &doc)
{
    const auto it = m.find(doc);
    return it != m.end() && it->second != Modality::Text;
}

} // namespace

std::map<Modality, RunEvaluation> evaluateByModality(const Qrels &qrels, const Run &run, const Modalities &modalities,
                                                     const EvalOptions &options)
{
    std::map<Modality, RunEvaluation> out;
    for (const auto modality : {Modality::Text, Modality::Image, Modality::TextImage}) {
        const auto keep = [&](const std::string &doc) {
            const auto it = modalities.find(doc);
            return it != modalities.end() && it->second == modality;
        };
        Qrels q;
        for (const auto &[query, docs] : qrels)
            for (const auto &[doc, grade] : docs)
                if (keep(doc))
                    q[query][doc] = grade;
        Run r;
        for (const auto &[query, ranking] : run)
            for (const auto &entry : ranking)
                if (keep(entry.first))
                    r[query].push_back(entry);
        if (!q.empty())
            out.emplace(modality, evaluateRun(q, r, options));
    }
    return out;
}

ModalityBias modalityBias(const Qrels &qrels, const Run &run, const Modalities &modalities, long k, int relevanceLevel)
{
    ModalityBias b;
    b.k = k;
    for (const auto &[query, docs] : qrels) {
        const auto it = run.find(query);
        if (it == run.end())
            continue;
        long relevant = 0, relevantImages = 0;
        for (const auto &[doc, grade] : docs)
            if (grade >= relevanceLevel) {
                ++relevant;
                relevantImages += isImage(modalities, doc);
            }
        if (relevant == 0)
            continue;
        const auto ranking = sortedLikeTrecEval(it->second);
        const auto top = std::min<long>(k, static_cast<long>(ranking.size()));
        if (top == 0)
            continue;
        long images = 0;
        for (long i = 0; i < top; ++i)
            images += isImage(modalities, ranking[static_cast<std::size_t>(i)].first);
        b.imageShareTopK += static_cast<double>(images) / static_cast<double>(top);
        b.imageShareRelevant += static_cast<double>(relevantImages) / static_cast<double>(relevant);
        ++b.queries;
    }
    if (b.queries) {
        b.imageShareTopK /= static_cast<double>(b.queries);
        b.imageShareRelevant /= static_cast<double>(b.queries);
        b.bias = b.imageShareTopK - b.imageShareRelevant;
    }
    return b;
}

PreferenceAgreement preferenceAgreement(const std::vector<PairJudgement> &pairs, const Run &run)
{
    PreferenceAgreement a;
    std::map<std::string, std::pair<std::size_t, std::size_t>> perQuery; // agreed, decided
    std::map<std::string, std::map<std::string, double>> scores;
    for (const auto &[query, ranking] : run)
        for (const auto &[doc, score] : ranking)
            scores[query][doc] = score;
    for (const auto &p : pairs) {
        if (p.outcome == PairOutcome::Tie || p.outcome == PairOutcome::BothIrrelevant) {
            ++a.excludedTies;
            continue;
        }
        const auto q = scores.find(p.queryId);
        if (q == scores.end() || !q->second.contains(p.left) || !q->second.contains(p.right)) {
            ++a.notInRun;
            continue;
        }
        const double l = q->second.at(p.left), r = q->second.at(p.right);
        if (l == r) {
            ++a.runTies;
            continue;
        }
        const bool agrees = (p.outcome == PairOutcome::Left) == (l > r);
        ++(agrees ? a.agreed : a.disagreed);
        auto &pq = perQuery[p.queryId];
        pq.first += agrees;
        ++pq.second;
    }
    for (const auto &[q, c] : perQuery)
        a.perQuery[q] = static_cast<double>(c.first) / static_cast<double>(c.second);
    return a;
}

AnnotatorAgreement krippendorffAlpha(const std::vector<PairJudgement> &pairs)
{
    // Value per judgement, oriented so that the smaller document id is "left".
    std::map<std::tuple<std::string, std::string, std::string>, std::vector<int>> units;
    for (const auto &p : pairs) {
        const bool flip = p.right < p.left;
        int v = static_cast<int>(p.outcome);
        if (flip && p.outcome == PairOutcome::Left)
            v = static_cast<int>(PairOutcome::Right);
        else if (flip && p.outcome == PairOutcome::Right)
            v = static_cast<int>(PairOutcome::Left);
        units[{p.queryId, flip ? p.right : p.left, flip ? p.left : p.right}].push_back(v);
    }
    // Coincidence matrix o[c][k] over pairable values.
    std::map<std::pair<int, int>, double> o;
    std::map<int, double> n;
    double total = 0;
    AnnotatorAgreement out;
    for (const auto &[unit, values] : units) {
        const auto m = values.size();
        if (m < 2)
            continue;
        ++out.units;
        out.judgements += m;
        for (std::size_t i = 0; i < m; ++i)
            for (std::size_t j = 0; j < m; ++j)
                if (i != j)
                    o[{values[i], values[j]}] += 1.0 / static_cast<double>(m - 1);
    }
    for (const auto &[ck, v] : o) {
        n[ck.first] += v;
        total += v;
    }
    if (total <= 1)
        return out;
    double observed = 0, expected = 0;
    for (const auto &[ck, v] : o)
        if (ck.first != ck.second)
            observed += v;
    for (const auto &[c, nc] : n)
        for (const auto &[k, nk] : n)
            if (c != k)
                expected += nc * nk;
    expected /= (total - 1);
    if (expected <= 0)
        return out; // a single value everywhere: alpha undefined
    out.alpha = 1.0 - observed / expected;
    return out;
}

std::vector<PairJudgement> readTrecPrefs(const std::filesystem::path &path)
{
    struct Row {
        std::string doc;
        int rel;
    };
    std::map<std::tuple<std::string, std::string, std::string>, std::vector<Row>> groups;
    forEachLine(path, [&](std::string_view line, std::int64_t lineNo) {
        const auto cols = splitWhitespace(line);
        if (cols.empty())
            return;
        if (cols.size() != 5)
            throw InputError(SourceLocation{path.string(), lineNo}, "expected 5 columns (qid jg jsg docno rel_level), found " +
                                                                         std::to_string(cols.size()));
        const auto rel = parseInt(cols[4], SourceLocation{path.string(), lineNo, "rel_level"});
        groups[{std::string(cols[0]), std::string(cols[1]), std::string(cols[2])}].push_back({std::string(cols[3]), static_cast<int>(rel)});
    });
    std::vector<PairJudgement> out;
    for (const auto &[key, rows] : groups)
        for (std::size_t i = 0; i < rows.size(); ++i)
            for (std::size_t j = i + 1; j < rows.size(); ++j) {
                const auto &a = rows[i], &b = rows[j];
                PairOutcome o = a.rel > b.rel   ? PairOutcome::Left
                                : a.rel < b.rel ? PairOutcome::Right
                                : a.rel == 0    ? PairOutcome::BothIrrelevant
                                                : PairOutcome::Tie;
                out.push_back({std::get<0>(key), a.doc, b.doc, o, std::get<1>(key)});
            }
    return out;
}

} // namespace unirank::eval
