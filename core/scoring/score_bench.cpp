// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/scoring/score_bench.h"

#include "core/formats/beir.h"
#include "core/model/model_bench.h"
#include "core/model/presets.h"
#include "core/scoring/scorer.h"

#include <nlohmann/json.hpp>

#include <chrono>
#include <map>
#include <sstream>

namespace fs = std::filesystem;

namespace unirank::scoring {
namespace {

struct Measure {
    std::size_t pairs = 0;
    double seconds = 0;
    double tokens = 0; ///< candidate-specific tokens (text + image + prompt tail)
    double prefixTokens = 0; ///< tokens computed in shared prefixes (template head once, then per query)
    double pairsPerSecond() const { return seconds > 0 ? static_cast<double>(pairs) / seconds : 0; }
    double tokensPerPair() const { return pairs ? tokens / static_cast<double>(pairs) : 0; }
};

Measure timeScoring(const std::shared_ptr<ScoringModel> &model, const ScorerOptions &options,
                    const std::vector<ScoringQuery> &queries)
{
    Scorer scorer(model, options);
    Measure m;
    const auto start = std::chrono::steady_clock::now();
    for (const auto &list : scorer.scoreQueries(queries)) // as "Score all" does: batches across queries
        for (const auto &s : list) {
            if (!s.ok())
                throw InputError("bench: candidate " + s.candidateId + ": " + s.error);
            ++m.pairs;
            m.tokens += static_cast<double>(s.promptTokens);
        }
    m.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    m.prefixTokens = static_cast<double>(scorer.prefixTokensComputed());
    return m;
}

/// "qid/docid" of every pair, in scoring order: what another implementation must score to compare.
nlohmann::json pairList(const std::vector<ScoringQuery> &lists)
{
    auto out = nlohmann::json::array();
    for (const auto &q : lists)
        for (const auto &c : q.candidates)
            out.push_back(q.id + "/" + c.id);
    return out;
}

/// Text-only and image-only lists from the data set's first-stage run.
std::pair<std::vector<ScoringQuery>, std::vector<ScoringQuery>> lists(const ScoreBenchOptions &o)
{
    const auto data = readBeirFolder(o.dataset);
    if (!data.run)
        throw InputError(o.dataset.string() + ": no run.trec");
    std::map<std::string, const Candidate *> byId;
    for (const auto &c : data.candidates)
        byId[c.id] = &c;
    std::vector<ScoringQuery> text, image;
    for (const auto &q : data.queries) {
        if (static_cast<std::int64_t>(text.size()) == o.queries)
            break;
        ScoringQuery t{q.id, q.text, {}}, i{q.id, q.text, {}};
        for (const auto &r : *data.run) {
            if (r.queryId != q.id)
                continue;
            const auto *c = byId.at(r.docId);
            auto &target = c->imagePath.empty() ? t : i;
            if (static_cast<std::int64_t>(target.candidates.size()) < o.candidatesPerQuery)
                target.candidates.push_back({c->id, c->text, c->imagePath.empty() ? fs::path() : data.root / c->imagePath, {}});
        }
        if (!t.candidates.empty() && !i.candidates.empty()) {
            text.push_back(std::move(t));
            image.push_back(std::move(i));
        }
    }
    if (text.empty())
        throw InputError(o.dataset.string() + ": no query has both text and image candidates");
    return {text, image};
}

std::shared_ptr<ScoringModel> buildModel(const ScoreBenchOptions &o)
{
    if (!o.modelFolder.empty()) {
        auto m = loadScoringModel(o.modelFolder, {o.device, o.dtype, {}});
        if (!m)
            throw InputError(m.error().message);
        return *m;
    }
    if (o.preset == "tiny") {
        auto m = loadScoringModel(o.tinyModel, {o.device, o.dtype, {}});
        if (!m)
            throw InputError(m.error().message);
        return *m;
    }
    auto tiny = loadScoringModel(o.tinyModel, {torch::kCPU, torch::kFloat32, {}});
    if (!tiny)
        throw InputError(tiny.error().message);
    auto sm = std::make_shared<ScoringModel>();
    const auto cfg = model::presetConfig(o.preset, o.layers, o.layers); // InputError for an unknown name
    torch::manual_seed(1);
    sm->model = model::Qwen2VL(cfg);
    sm->model->eval();
    sm->model->to(o.device, o.dtype);
    sm->tokenizer = (*tiny)->tokenizer; // ids < 512 are valid in the 2B vocabulary
    if (!o.tokenizer.empty()) {          // the real Qwen tokenizer: realistic token counts
        auto real = text::Tokenizer::load(o.tokenizer);
        if (!real)
            throw InputError(real.error().message);
        sm->tokenizer = *real;
    }
    sm->prompt = std::make_unique<BoundTemplate>(PromptTemplate::builtIn(), sm->tokenizer,
                                                 static_cast<std::int32_t>(cfg.tokens.imageToken),
                                                 static_cast<std::int32_t>(cfg.tokens.visionStart),
                                                 static_cast<std::int32_t>(cfg.tokens.visionEnd));
    sm->folderImageConfig = familyImageDefaults(cfg);
    applyPixelBudget(*sm, {});
    sm->weightsHash = "random-" + o.preset + "-" + std::to_string(o.layers);
    return sm;
}

/// Matmul FLOPs of the linear layers for `tokens` decoder tokens and `patches` vision patches
/// (attention scores excluded: short prompts make them small; an underestimate of the work done).
double linearFlops(const model::Qwen2VLConfig &c, double tokens, double patches)
{
    const auto text = model::textForwardFlops(c, 1, 1) - 2.0 * static_cast<double>(c.text.hiddenSize * c.text.vocabSize);
    const auto vision = model::visionForwardFlops(c, 1);
    return tokens * text + patches * vision; // the LM head is two rows per pair: negligible
}

} // namespace

ScoreBenchResult benchmarkScoring(const ScoreBenchOptions &o, const std::function<void(const std::string &)> &progress)
{
    const auto say = [&](const std::string &s) {
        if (progress)
            progress(s);
    };
    say("reading " + o.dataset.string());
    const auto [textLists, imageLists] = lists(o);
    say(o.modelFolder.empty() ? "building the " + o.preset + " model" : "loading " + o.modelFolder.string());
    const auto loadStart = std::chrono::steady_clock::now();
    const auto model = buildModel(o);
    if (o.int8)
        useInt8(*model);
    const double loadSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - loadStart).count();
    const double loadPeak = model::peakMemory(o.device).first;
    double fileBytes = 0;
    if (!o.modelFolder.empty())
        for (const auto &e : fs::directory_iterator(o.modelFolder))
            if (e.is_regular_file() && e.path().extension() == ".safetensors")
                fileBytes += static_cast<double>(e.file_size());
    const auto &cfg = model->model->config();
    say("measuring the GEMM peak");
    std::string peakShape;
    const double peak = model::measureGemmPeak(o.device, o.dtype, {}, 0.3, &peakShape);

    ScorerOptions base{o.batchSize, true, false, {}, nullptr};
    timeScoring(model, base, {textLists.front()}); // warm-up
    say("text candidates, prefix cache on / off");
    const auto text = timeScoring(model, base, textLists);
    auto noPrefix = base;
    noPrefix.prefixCache = false;
    const auto textNoPrefix = timeScoring(model, noPrefix, textLists);
    Measure rendered, imageCold, imageWarm;
    if (!o.textOnly) {
        say("text candidates rendered as images");
        auto asImage = base;
        asImage.textAsImage = true;
        rendered = timeScoring(model, asImage, textLists);
        say("image candidates, embedding cache cold / warm");
        auto cached = base;
        cached.imageCache = std::make_shared<EmbeddingCache>(1ull << 30);
        imageCold = timeScoring(model, cached, imageLists);
        imageWarm = timeScoring(model, cached, imageLists);
    }

    // Work of the native text pass: every candidate's tokens plus the prefixes' (the template head once,
    // then each query's rest).
    const double textFlops = linearFlops(cfg, text.tokens + text.prefixTokens, 0);
    const double mfu = peak > 0 ? textFlops / text.seconds / peak : 0;

    const auto measure = [](const Measure &m) {
        return nlohmann::json{{"pairs", m.pairs}, {"seconds", m.seconds}, {"pairs_per_s", m.pairsPerSecond()},
                              {"tokens_per_pair", m.tokensPerPair()},
                              {"shared_prefix_tokens_per_pair", m.pairs ? m.prefixTokens / static_cast<double>(m.pairs) : 0.0}};
    };
    ScoreBenchResult r;
    r.figures = {{"preset", o.modelFolder.empty() ? o.preset : std::string("checkpoint")},
                 {"layers", cfg.text.numLayers},
                 {"device", o.device.str()},
                 {"dtype", c10::toString(o.dtype)},
                 {"int8_linear", o.int8},
                 {"batch_size", o.batchSize},
                 {"gemm_peak_gflops", peak / 1e9},
                 {"text", measure(text)},
                 {"text_no_prefix_cache", measure(textNoPrefix)},
                 {"prefix_cache_speedup", text.pairsPerSecond() / textNoPrefix.pairsPerSecond()},
                 {"text_mfu_linear_layers", mfu},
                 {"model_folder", o.modelFolder.string()},
                 {"weight_file_mib", fileBytes / (1 << 20)},
                 {"load_seconds", loadSeconds},
                 {"load_peak_memory_mib", loadPeak / (1 << 20)},
                 {"peak_memory_mib", model::peakMemory(o.device).first / (1 << 20)},
                 {"peak_memory_over_files", fileBytes > 0 ? model::peakMemory(o.device).first / fileBytes : 0.0},
                 {"text_pairs", pairList(textLists)}};
    if (!o.textOnly) {
        r.figures["text_as_image"] = measure(rendered);
        r.figures["image_cold_cache"] = measure(imageCold);
        r.figures["image_warm_cache"] = measure(imageWarm);
        r.figures["native_vs_text_as_image_time"] = rendered.seconds / text.seconds;
        r.figures["native_vs_text_as_image_tokens"] = rendered.tokensPerPair() / text.tokensPerPair();
        r.figures["image_cache_speedup"] = imageWarm.pairsPerSecond() / imageCold.pairsPerSecond();
    }
    std::ostringstream s;
    s.precision(3);
    s << "scoring with " << (o.modelFolder.empty() ? o.preset : o.modelFolder.filename().string()) << " (" << cfg.text.numLayers << " decoder layers) on " << o.device.str() << " in "
      << c10::toString(o.dtype) << (o.int8 ? " (language model int8)" : "") << ", batch " << o.batchSize << "; libtorch GEMM peak " << peak / 1e9 << " GFLOP/s ("
      << peakShape << ")\n";
    s << "text candidates:     " << text.pairsPerSecond() << " pairs/s, " << text.tokensPerPair()
      << " tokens per candidate + " << (text.pairs ? text.prefixTokens / static_cast<double>(text.pairs) : 0.0)
      << " of shared prefixes, MFU " << mfu << " (linear layers)\n";
    s << "  prefix cache off:  " << textNoPrefix.pairsPerSecond() << " pairs/s -> the cache is "
      << text.pairsPerSecond() / textNoPrefix.pairsPerSecond() << "x faster\n";
    if (!o.textOnly) {
        s << "  as images:         " << rendered.pairsPerSecond() << " pairs/s, " << rendered.tokensPerPair()
          << " tokens per candidate -> native text is " << rendered.seconds / text.seconds
          << "x faster; rendering uses " << rendered.tokensPerPair() / text.tokensPerPair() << "x the tokens\n";
        s << "image candidates:    " << imageCold.pairsPerSecond() << " pairs/s (cold), " << imageWarm.pairsPerSecond()
          << " pairs/s (embeddings cached) -> " << imageWarm.pairsPerSecond() / imageCold.pairsPerSecond() << "x\n";
    }
    if (!o.modelFolder.empty())
        s << "model " << o.modelFolder.string() << ": " << fileBytes / (1 << 20) << " MiB of weight files, loaded in "
          << loadSeconds << " s (peak " << loadPeak / (1 << 20) << " MiB); peak over the run "
          << model::peakMemory(o.device).first / (1 << 20) << " MiB = "
          << (fileBytes > 0 ? model::peakMemory(o.device).first / fileBytes : 0.0) << "x the files\n";
    r.text = s.str();
    return r;
}

} // namespace unirank::scoring
