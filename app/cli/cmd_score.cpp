// SPDX-License-Identifier: GPL-3.0-or-later
// unirank-cli score (--model DIR [--adapter DIR] | --model-version NAME) (--dataset DIR | --project FILE
//                   [--collection NAME]) [--device cpu|cuda] [--dtype fp32|bf16] [--int8] [--text-as-image]
//                   [--batch-size N] [--no-prefix-cache] [--min-pixels N] [--max-pixels N] [--tag TAG]
//                   [--out run.trec]
//
// Reranks the first-stage lists (a dataset's run.trec, or a project collection's list) with the hybrid
// scorer and writes a TREC run, scores strictly decreasing within a query. The run score is the label
// logit margin (monotone in the probability, without its saturation). With --project the run is also
// stored in the project, tied to the model version, and image embeddings are cached beside the project;
// --model-version scores a version the project already has (its folders from its lineage: an aligned
// adapter on its base), and --out is optional.
// Candidates that cannot be scored are reported on stderr and ranked last, in first-stage order.
// Images are resized within a pixel budget (scoring::PixelBudget; recorded with a stored run).
#include "cli_score.h"

#include "core/formats/beir.h"
#include "core/formats/trec.h"
#include "core/model/loader.h"
#include "core/scoring/scoring_job.h"
#include "storage/dataset_export.h"
#include "storage/score_store.h"

#include <nlohmann/json.hpp>

#include <future>
#include <iostream>
#include <map>
#include <numeric>

namespace fs = std::filesystem;

namespace unirank::cli {
namespace {

/// Lists from a BEIR folder's run.trec, in run order.
std::vector<scoring::ScoringQuery> datasetQueries(const fs::path &dir)
{
    const auto data = readBeirFolder(dir);
    if (!data.run)
        throw InputError(dir.string() + ": has no run.trec with first-stage lists to rerank");
    std::map<std::string, const Candidate *> candidates;
    for (const auto &c : data.candidates)
        candidates[c.id] = &c;
    std::map<std::string, const Query *> queries;
    for (const auto &q : data.queries)
        queries[q.id] = &q;
    std::vector<scoring::ScoringQuery> out;
    std::map<std::string, std::size_t> index;
    for (const auto &r : *data.run) {
        auto [it, fresh] = index.emplace(r.queryId, out.size());
        if (fresh) {
            const auto *q = queries.at(r.queryId);
            scoring::ScoringQuery sq{r.queryId, q->text, {}};
            if (!q->imagePath.empty()) {
                sq.image = data.root / q->imagePath;
                if (const auto img = data.images.find(q->imagePath); img != data.images.end())
                    sq.imageHash = img->second.sha256;
            }
            out.push_back(std::move(sq));
        }
        const auto *c = candidates.at(r.docId);
        const auto image = c->imagePath.empty() ? fs::path() : data.root / c->imagePath;
        const auto img = data.images.find(c->imagePath);
        out[it->second].candidates.push_back({c->id, c->text, image, img == data.images.end() ? "" : img->second.sha256});
    }
    return out;
}

/// Waits for the job; progress on stderr.
scoring::ScoringResult runJob(scoring::ScoringJob &job, std::vector<scoring::ScoringQuery> queries)
{
    std::promise<scoring::ScoringResult> done;
    auto future = done.get_future();
    job.submit(std::move(queries),
               {[](std::size_t i, std::size_t n) {
                    if (i == n || i % 10 == 0)
                        std::cerr << "scored " << i << " of " << n << " queries\n";
                },
                [&](scoring::ScoringResult r) { done.set_value(std::move(r)); },
                [&](const Error &e) { done.set_exception(std::make_exception_ptr(CommandFailed{e})); },
                [&] { done.set_exception(std::make_exception_ptr(CommandFailed{{ErrorKind::Internal, "cancelled"}})); }});
    return future.get();
}

} // namespace

void runScore(ScoreArgs a)
{
    std::unique_ptr<storage::Project> project;
    std::optional<std::int64_t> registered; // --model-version
    if (!a.project.empty())
        project = openProject(a.project);
    if (!a.modelVersion.empty()) {
        const auto v = storage::findModelVersion(project->db(), a.modelVersion);
        if (!v)
            throw InputError(a.project + ": has no model version '" + a.modelVersion + "' (`unirank-cli stats` lists them)");
        const auto folders = storage::versionFolders(project->db(), v->id);
        if (!folders)
            throw InputError(a.project + ": model version '" + a.modelVersion + "' has no base model in its lineage");
        a.model = folders->model;
        a.adapter = folders->adapter;
        registered = v->id;
    }
    const auto device = model::parseDevice(a.device);
    const auto dtype = model::parseDtype(a.dtype);
    std::cerr << "loading " << a.model << (a.adapter.empty() ? "" : " + adapter " + a.adapter) << "\n";
    auto loaded = require(scoring::loadScoringModel(a.model, {device, dtype, [](const std::string &s) {
                                                                  std::cerr << "note: " << s << "\n";
                                                              }},
                                                    a.adapter));
    scoring::applyPixelBudget(*loaded, {a.minPixels, a.maxPixels});
    if (a.int8) {
        scoring::useInt8(*loaded);
        std::cerr << "the language model's projections run in dynamic int8\n";
    }
    std::cerr << "images within " << loaded->imageConfig.minPixels << ".." << loaded->imageConfig.maxPixels << " pixels\n";
    scoring::ScorerOptions options;
    options.batchSize = a.batchSize;
    options.prefixCache = !a.noPrefixCache;
    options.candidateReuse = !a.noCandidateReuse;
    options.textAsImage = a.textAsImage;

    std::int64_t collectionId = 0;
    std::vector<storage::CandidateList> lists;
    std::vector<scoring::ScoringQuery> queries;
    if (project) {
        collectionId = storage::resolveCollection(project->db(), a.collection);
        lists = storage::firstStageLists(*project, collectionId);
        for (const auto &l : lists) {
            scoring::ScoringQuery q{l.queryExtId, l.queryText, {}, l.queryImage, l.queryImageHash};
            for (const auto &item : l.items)
                q.candidates.push_back({item.extId, item.text, item.image, item.imageHash});
            queries.push_back(std::move(q));
        }
        const auto cacheDir = project->sideFolder("cache");
        options.imageCache = std::make_shared<scoring::EmbeddingCache>(512ull << 20, cacheDir / "image-embeddings");
        options.candidateCache = std::make_shared<scoring::EmbeddingCache>(scoring::kCandidateCacheMemory, cacheDir / "candidate-kv",
                                                                           scoring::kCandidateCacheDisk, "prefix_kv");
    } else {
        queries = datasetQueries(a.dataset);
        options.imageCache = std::make_shared<scoring::EmbeddingCache>(512ull << 20);
    }
    scoring::ScoringJob job(loaded, options);
    const auto result = runJob(job, queries);

    const auto tag = !a.tag.empty()          ? a.tag
                     : !a.modelVersion.empty() ? "unirank-" + a.modelVersion
                                               : "unirank-" + fs::path(a.model).filename().string();
    std::vector<RunEntry> run;
    std::vector<storage::ScoredItem> stored;
    std::size_t failed = 0;
    for (std::size_t qi = 0; qi < result.queries.size(); ++qi) {
        const auto &q = result.queries[qi];
        const auto &scores = result.scores[qi];
        std::vector<std::size_t> order(scores.size());
        std::iota(order.begin(), order.end(), 0);
        // Scored candidates by margin, then the failed ones in first-stage order.
        std::stable_sort(order.begin(), order.end(), [&](std::size_t x, std::size_t y) {
            if (scores[x].ok() != scores[y].ok())
                return scores[x].ok();
            return scores[x].ok() && scores[x].margin > scores[y].margin;
        });
        double lowest = 0;
        for (const auto &s : scores)
            if (s.ok())
                lowest = std::min(lowest, s.margin);
        int rank = 0;
        for (const auto i : order) {
            const auto &s = scores[i];
            ++rank;
            if (!s.ok()) {
                ++failed;
                std::cerr << "warning: query " << q.id << ", candidate " << s.candidateId << ": " << s.error << "\n";
            }
            run.push_back({q.id, s.candidateId, rank, s.ok() ? s.margin : lowest - 1.0 - rank, tag, 0});
            if (project && s.ok())
                stored.push_back({lists[qi].queryId, lists[qi].items[i].candidateId, s.margin});
        }
    }
    if (!a.out.empty())
        writeRun(a.out, run, tag);
    std::cerr << "scored " << run.size() << " candidates of " << result.queries.size() << " queries in " << result.seconds << " s";
    if (!a.out.empty())
        std::cerr << " (run: " << a.out << ")";
    if (failed)
        std::cerr << " (" << failed << " candidates could not be scored and are ranked last)";
    std::cerr << "\n";
    if (const auto &c = result.candidateStats; c.pairs > 0)
        std::cerr << "candidate-first: " << c.prefixes << " candidate prefixes for " << c.pairs << " pairs (" << c.prefixHits
                  << " from the cache), " << c.prefixTokens << " prefix tokens and " << c.pairTokens << " pair tokens computed; "
                  << (result.seconds > 0 ? static_cast<double>(c.pairs) / result.seconds : 0.0) << " pairs/s\n";
    if (project) {
        const auto &prompt = loaded->prompt->prompt();
        const nlohmann::json params{{"score", "label logit margin"},   {"template", prompt.toJson()},
                                    {"device", a.device},              {"dtype", a.dtype}, {"int8_linear", a.int8},
                                    {"batch_size", a.batchSize},       {"text_as_image", a.textAsImage},
                                    {"adapter", a.adapter},            {"failed_candidates", failed},
                                    {"min_pixels", loaded->imageConfig.minPixels},
                                    {"max_pixels", loaded->imageConfig.maxPixels}};
        auto &db = project->db();
        auto version = registered ? *registered
                                  : storage::ensureModelVersion(db, fs::path(a.model).filename().string(), storage::ModelKind::Base,
                                                                fs::absolute(a.model).string(), loaded->baseWeightsHash);
        if (!registered && !a.adapter.empty())
            version = storage::ensureModelVersion(db, fs::path(a.adapter).filename().string(),
                                                  storage::ModelKind::Adapter, fs::absolute(a.adapter).string(),
                                                  loaded->weightsHash, version);
        const auto runId = storage::storeScoreRun(db, version, collectionId, params, stored);
        std::cerr << "stored score run " << runId << " in " << a.project << "\n";
    }
}

void addScoreCommand(CLI::App &app)
{
    auto a = std::make_shared<ScoreArgs>();
    auto *cmd = app.add_subcommand("score", "Rerank first-stage lists with the hybrid scorer; write a TREC run");
    auto *model = cmd->add_option("--model", a->model, "Model folder (config.json, weights, tokenizer.json)");
    cmd->add_option("--adapter", a->adapter, "PEFT LoRA adapter folder merged into the model")->needs(model);
    auto *version = cmd->add_option("--model-version", a->modelVersion, "A model version of the project (instead of --model)");
    version->excludes(model);
    auto *dataset = cmd->add_option("--dataset", a->dataset, "BEIR folder with run.trec");
    auto *project = cmd->add_option("--project", a->project, "Project file: score a collection's list, store the run");
    dataset->excludes(project);
    cmd->add_option("--collection", a->collection, "Collection in the project (default: the only one)")->needs(project);
    cmd->add_option("--device", a->device, "cpu or cuda[:N]");
    cmd->add_option("--dtype", a->dtype, "fp32 or bf16 (fp16 on CUDA)");
    cmd->add_flag("--text-as-image", a->textAsImage, "Baseline: render text candidates into images");
    cmd->add_flag("--int8", a->int8,
                  "The language model's projections in dynamic int8 (CPU, fp32; see the README for its speed and error)");
    cmd->add_option("--batch-size", a->batchSize, "Candidates per forward")->check(CLI::Range(1, 1024));
    cmd->add_flag("--no-prefix-cache", a->noPrefixCache, "Recompute the query prefix for every batch");
    cmd->add_flag("--no-candidate-reuse", a->noCandidateReuse,
                  "Candidate-first templates: compute every pair's whole prompt instead of each candidate's prefix once");
    addPixelBudgetOptions(*cmd, a->minPixels, a->maxPixels);
    cmd->add_option("--tag", a->tag, "Run tag (default unirank-<model folder>)");
    cmd->add_option("--out", a->out, "TREC run file to write (required with --dataset)");
    cmd->callback([a] {
        if (a->dataset.empty() == a->project.empty())
            throw InputError("give exactly one of --dataset and --project");
        if (a->model.empty() == a->modelVersion.empty())
            throw InputError("give exactly one of --model and --model-version");
        if (!a->modelVersion.empty() && a->project.empty())
            throw InputError("--model-version needs --project");
        if (a->out.empty() && a->project.empty())
            throw InputError("--out is required with --dataset");
        runScore(*a);
    });
}

} // namespace unirank::cli
