// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/formats/trec.h"

#include "core/formats/line_reader.h"
#include "core/util/atomic_file.h"

#include <cmath>
#include <map>
#include <unordered_map>

namespace fs = std::filesystem;

namespace unirank {
namespace {

std::string pairKey(std::string_view a, std::string_view b)
{
    std::string k(a);
    k.push_back('\x1f');
    k.append(b);
    return k;
}

} // namespace

std::vector<QrelEntry> readQrels(const fs::path &path, const QrelsReadOptions &options)
{
    return parseQrels(readTextFile(path), path.filename().string(), options);
}

std::vector<QrelEntry> parseQrels(std::string_view text, const std::string &file, const QrelsReadOptions &options)
{
    std::vector<QrelEntry> out;
    std::unordered_map<std::string, std::int64_t> seen;
    bool beir = false;
    forEachLineIn(text, file, [&](std::string_view line, std::int64_t lineNo) {
        const auto cols = splitWhitespace(line);
        if (cols.empty())
            return;
        if (lineNo == 1 && cols.size() == 3 && cols[0] == "query-id") {
            if (cols[1] != "corpus-id" || cols[2] != "score")
                throw InputError(SourceLocation{file, lineNo}, "header must be 'query-id corpus-id score'");
            beir = true;
            return;
        }
        const std::size_t want = beir ? 3 : 4;
        if (cols.size() != want)
            throw InputError(SourceLocation{file, lineNo},
                             "expected " + std::to_string(want) + " columns (" +
                                 (beir ? "query-id corpus-id score" : "qid iter docid rel") + "), found " +
                                 std::to_string(cols.size()));
        QrelEntry e;
        e.line = lineNo;
        e.queryId = std::string(cols[0]);
        e.docId = std::string(beir ? cols[1] : cols[2]);
        const std::string gradeField = beir ? "score" : "rel";
        e.grade = parseInt(beir ? cols[2] : cols[3], SourceLocation{file, lineNo, gradeField});
        if (e.grade < options.minGrade || e.grade > options.maxGrade)
            throw InputError(SourceLocation{file, lineNo, gradeField},
                             "grade " + std::to_string(e.grade) + " is outside " + std::to_string(options.minGrade) +
                                 ".." + std::to_string(options.maxGrade));
        const auto [it, inserted] = seen.emplace(pairKey(e.queryId, e.docId), lineNo);
        if (!inserted)
            throw InputError(SourceLocation{file, lineNo}, "duplicate judgement for query '" + e.queryId +
                                                               "' and document '" + e.docId + "' (first on line " +
                                                               std::to_string(it->second) + ")");
        out.push_back(std::move(e));
    });
    return out;
}

std::vector<RunEntry> readRun(const fs::path &path)
{
    return parseRun(readTextFile(path), path.filename().string());
}

std::vector<RunEntry> parseRun(std::string_view text, const std::string &file)
{
    std::vector<RunEntry> out;
    std::unordered_map<std::string, std::int64_t> seen;
    forEachLineIn(text, file, [&](std::string_view line, std::int64_t lineNo) {
        const auto cols = splitWhitespace(line);
        if (cols.empty())
            return;
        if (cols.size() != 6)
            throw InputError(SourceLocation{file, lineNo}, "expected 6 columns (qid Q0 docid rank score tag), found " +
                                                               std::to_string(cols.size()));
        RunEntry e;
        e.line = lineNo;
        e.queryId = std::string(cols[0]);
        e.docId = std::string(cols[2]);
        e.rank = parseInt(cols[3], SourceLocation{file, lineNo, "rank"});
        e.score = parseDouble(cols[4], SourceLocation{file, lineNo, "score"});
        e.tag = std::string(cols[5]);
        const auto [it, inserted] = seen.emplace(pairKey(e.queryId, e.docId), lineNo);
        if (!inserted)
            throw InputError(SourceLocation{file, lineNo, "docid"},
                             "document '" + e.docId + "' listed twice for query '" + e.queryId + "' (first on line " +
                                 std::to_string(it->second) + ")");
        out.push_back(std::move(e));
    });
    return out;
}

void writeTrecQrels(const fs::path &path, const std::vector<QrelEntry> &qrels)
{
    std::string text;
    for (const auto &q : qrels)
        text += q.queryId + " 0 " + q.docId + " " + std::to_string(q.grade) + "\n";
    writeFileAtomically(path, text);
}

void writeBeirQrels(const fs::path &path, const std::vector<QrelEntry> &qrels)
{
    std::string text = "query-id\tcorpus-id\tscore\n";
    for (const auto &q : qrels)
        text += q.queryId + "\t" + q.docId + "\t" + std::to_string(q.grade) + "\n";
    writeFileAtomically(path, text);
}

void writeRun(const fs::path &path, std::vector<RunEntry> entries, const std::string &tag)
{
    // Group by query in order of first appearance, stable by rank inside a query.
    std::unordered_map<std::string, std::size_t> order;
    for (const auto &e : entries)
        order.emplace(e.queryId, order.size());
    std::stable_sort(entries.begin(), entries.end(), [&](const RunEntry &a, const RunEntry &b) {
        const auto oa = order.at(a.queryId), ob = order.at(b.queryId);
        return oa != ob ? oa < ob : a.rank < b.rank;
    });
    std::string text;
    std::string currentQuery;
    int rank = 0;
    double previous = 0;
    for (auto &e : entries) {
        if (rank == 0 || e.queryId != currentQuery) {
            currentQuery = e.queryId;
            rank = 0;
        } else if (!(e.score < previous)) {
            e.score = std::nextafter(previous, -INFINITY);
        }
        previous = e.score;
        ++rank;
        text += e.queryId + " Q0 " + e.docId + " " + std::to_string(rank) + " " + formatDouble(e.score) + " " + tag +
                "\n";
    }
    writeFileAtomically(path, text);
}

std::size_t writeTrecPrefs(const fs::path &path, const std::vector<PairPreference> &prefs)
{
    // Per (query, group): rel level already given to each document ("0" or "non-zero").
    std::map<std::string, std::map<std::string, bool>> zeroByGroup;
    std::string text;
    for (const auto &p : prefs) {
        std::string group = p.source == PairSource::Human ? p.annotator : std::string(toString(p.source));
        if (group.empty())
            group = "unknown";
        const std::string sub = "p" + std::to_string(p.id);
        int left = 1, right = 1;
        switch (p.outcome) {
        case PairOutcome::Left: left = 2; break;
        case PairOutcome::Right: right = 2; break;
        case PairOutcome::Tie: break;
        case PairOutcome::BothIrrelevant: left = right = 0; break;
        }
        auto &known = zeroByGroup[p.queryId + '\x1f' + group];
        const auto conflicts = [&](const std::string &doc, int level) {
            const auto it = known.find(doc);
            return it != known.end() && it->second != (level == 0);
        };
        if (conflicts(p.leftId, left) || conflicts(p.rightId, right)) {
            group += "." + sub;
        } else {
            known[p.leftId] = left == 0;
            known[p.rightId] = right == 0;
        }
        text += p.queryId + " " + group + " " + sub + " " + p.leftId + " " + std::to_string(left) + "\n";
        text += p.queryId + " " + group + " " + sub + " " + p.rightId + " " + std::to_string(right) + "\n";
    }
    writeFileAtomically(path, text);
    return prefs.size();
}

} // namespace unirank
