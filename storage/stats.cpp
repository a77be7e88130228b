// SPDX-License-Identifier: GPL-3.0-or-later
#include "storage/stats.h"

#include "storage/errors.h"

#include <cstdio>

namespace unirank::storage {

Result<ProjectStats> projectStats(Database &db)
{
    return capture([&] {
        ProjectStats s;
        s.schemaVersion = db.userVersion();
        auto &c = db.cached(R"sql(
            SELECT co.name, co.split,
              (SELECT count(*) FROM queries q WHERE q.collection_id = co.id),
              (SELECT count(*) FROM candidates c WHERE c.collection_id = co.id),
              (SELECT count(*) FROM candidates c WHERE c.collection_id = co.id AND c.modality = 'text'),
              (SELECT count(*) FROM candidates c WHERE c.collection_id = co.id AND c.modality = 'image'),
              (SELECT count(*) FROM candidates c WHERE c.collection_id = co.id AND c.modality = 'text+image'),
              (SELECT count(*) FROM candidate_lists l JOIN first_stage_runs r ON r.id = l.run_id
                 WHERE r.collection_id = co.id),
              (SELECT count(DISTINCT g.query_id || ':' || g.candidate_id) FROM graded_labels g
                 JOIN queries q ON q.id = g.query_id WHERE q.collection_id = co.id AND g.retracted_at IS NULL),
              (SELECT count(*) FROM pair_labels p JOIN queries q ON q.id = p.query_id
                 WHERE q.collection_id = co.id AND p.retracted_at IS NULL)
            FROM collections co ORDER BY co.id)sql");
        while (c.step())
            s.collections.push_back(CollectionStats{c.columnText(0), c.columnText(1), c.columnInt(2), c.columnInt(3),
                                                    c.columnInt(4), c.columnInt(5), c.columnInt(6), c.columnInt(7),
                                                    c.columnInt(8), c.columnInt(9)});
        c.reset();
        const auto count = [&](const char *sql) { return db.queryInt(sql).value_or(0); };
        s.mediaFiles = count("SELECT count(*) FROM media");
        s.mediaBytes = count("SELECT coalesce(sum(bytes), 0) FROM media");
        s.annotators = count("SELECT count(*) FROM annotators");
        s.humanGradedLabels = count("SELECT count(*) FROM graded_labels WHERE source = 'human' AND retracted_at IS NULL");
        s.humanPairLabels = count("SELECT count(*) FROM pair_labels WHERE source = 'human' AND retracted_at IS NULL");
        s.modelVersions = count("SELECT count(*) FROM model_versions");
        s.scoreRuns = count("SELECT count(*) FROM score_runs");
        s.trainingRuns = count("SELECT count(*) FROM training_runs");
        s.auditEntries = count("SELECT count(*) FROM audit_log");
        return s;
    });
}

nlohmann::ordered_json ProjectStats::toJson() const
{
    nlohmann::ordered_json j;
    j["schema_version"] = schemaVersion;
    j["collections"] = nlohmann::ordered_json::array();
    for (const auto &c : collections)
        j["collections"].push_back({{"name", c.name},
                                    {"split", c.split},
                                    {"queries", c.queries},
                                    {"candidates", c.candidates},
                                    {"candidates_text", c.textCandidates},
                                    {"candidates_image", c.imageCandidates},
                                    {"candidates_text_image", c.textImageCandidates},
                                    {"list_entries", c.listEntries},
                                    {"graded_labels", c.gradedLabels},
                                    {"pair_labels", c.pairLabels}});
    j["media_files"] = mediaFiles;
    j["media_bytes"] = mediaBytes;
    j["annotators"] = annotators;
    j["human_graded_labels"] = humanGradedLabels;
    j["human_pair_labels"] = humanPairLabels;
    j["model_versions"] = modelVersions;
    j["score_runs"] = scoreRuns;
    j["training_runs"] = trainingRuns;
    j["audit_entries"] = auditEntries;
    return j;
}

std::string ProjectStats::toText() const
{
    std::string out;
    char line[256];
    std::snprintf(line, sizeof line, "%-28s %8s %10s %6s %6s %6s %8s %8s %6s\n", "collection", "queries", "candidates",
                  "text", "image", "both", "listed", "graded", "pairs");
    out += line;
    for (const auto &c : collections) {
        std::snprintf(line, sizeof line, "%-28s %8lld %10lld %6lld %6lld %6lld %8lld %8lld %6lld\n", c.name.c_str(),
                      static_cast<long long>(c.queries), static_cast<long long>(c.candidates),
                      static_cast<long long>(c.textCandidates), static_cast<long long>(c.imageCandidates),
                      static_cast<long long>(c.textImageCandidates), static_cast<long long>(c.listEntries),
                      static_cast<long long>(c.gradedLabels), static_cast<long long>(c.pairLabels));
        out += line;
    }
    std::snprintf(line, sizeof line,
                  "\nmedia files %lld (%.1f MB), annotators %lld, human graded labels %lld, human pair labels %lld\n"
                  "model versions %lld, score runs %lld, training runs %lld, schema version %d\n",
                  static_cast<long long>(mediaFiles), static_cast<double>(mediaBytes) / 1e6,
                  static_cast<long long>(annotators), static_cast<long long>(humanGradedLabels),
                  static_cast<long long>(humanPairLabels), static_cast<long long>(modelVersions),
                  static_cast<long long>(scoreRuns), static_cast<long long>(trainingRuns), schemaVersion);
    out += line;
    return out;
}

} // namespace unirank::storage
