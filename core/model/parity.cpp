// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/model/parity.h"

#include "core/model/loader.h"
#include "core/model/torch_io.h"
#include "core/util/atomic_file.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <sstream>

namespace fs = std::filesystem;
using nlohmann::json;

namespace unirank::model {
namespace {

json readJson(const fs::path &path)
{
    try {
        return json::parse(readWholeFile(path));
    } catch (const json::exception &e) {
        throw InputError(path.string() + ": not valid JSON: " + e.what());
    }
}

/// Safetensors files opened once per run.
class TensorFiles {
public:
    torch::Tensor get(const fs::path &file, const std::string &name)
    {
        auto &f = m_files[file.string()];
        if (!f) {
            auto opened = tensor::SafetensorsFile::open(file);
            if (!opened)
                throw InputError(opened.error().message);
            f = *opened;
        }
        return readTensor(*f, name);
    }

private:
    std::map<std::string, std::shared_ptr<const tensor::SafetensorsFile>> m_files;
};

double unitRoundoff(torch::ScalarType dtype)
{
    switch (dtype) {
    case torch::kBFloat16: return std::ldexp(1.0, -8);
    case torch::kHalf: return std::ldexp(1.0, -11);
    default: return std::ldexp(1.0, -24);
    }
}

ParityTensor compareExact(const std::string &name, const torch::Tensor &ours, const torch::Tensor &ref)
{
    ParityTensor t{name};
    if (ours.sizes() != ref.sizes()) {
        t.maxAbs = std::numeric_limits<double>::infinity();
        return t;
    }
    t.maxAbs = ours.numel() ? (ours.to(torch::kCPU, torch::kLong) - ref.to(torch::kLong)).abs().max().item<double>() : 0;
    t.ok = t.maxAbs == 0;
    return t;
}

/// Compares float tensors in float64; `rowMask` [B, L] selects rows of [B, L, ...] tensors.
ParityTensor compareFloat(const std::string &name, const torch::Tensor &ours, const torch::Tensor &ref,
                          const torch::Tensor &rowMask, double relative)
{
    ParityTensor t{name};
    auto a = ours.detach().to(torch::kCPU, torch::kFloat64);
    auto b = ref.to(torch::kFloat64);
    if (a.sizes() != b.sizes()) {
        t.maxAbs = std::numeric_limits<double>::infinity();
        return t;
    }
    // [B, L, features] tensors (embeddings, layers, logits): only rows of real tokens.
    if (rowMask.defined() && b.dim() == 3 && b.size(0) == rowMask.size(0) && b.size(1) == rowMask.size(1)) {
        const auto keep = rowMask.to(torch::kBool);
        a = a.index({keep});
        b = b.index({keep});
    }
    t.refMaxAbs = b.numel() ? b.abs().max().item<double>() : 0;
    t.maxAbs = b.numel() ? (a - b).abs().max().item<double>() : 0;
    if (std::isnan(t.maxAbs))
        t.maxAbs = std::numeric_limits<double>::infinity();
    t.tolerance = relative * std::max(t.refMaxAbs, 1e-30);
    t.ok = t.maxAbs <= t.tolerance;
    return t;
}

ParityCase runCase(Qwen2VL &model, const fs::path &golden, const json &entry, TensorFiles &files,
                   double relative, const fs::path &dumpDir)
{
    ParityCase result;
    result.name = entry.at("name").get<std::string>();
    const auto meta = readJson(golden / entry.at("json").get<std::string>());
    const auto tensorFile = golden / entry.at("tensors").get<std::string>();
    const auto ref = [&](const std::string &name) { return files.get(tensorFile, name); };

    ForwardInput input;
    input.inputIds = ref("input_ids");
    input.attentionMask = ref("attention_mask");
    const auto mask = input.attentionMask;
    std::vector<torch::Tensor> pixels;
    for (const auto &src : meta.value("pixel_values_from", json::array())) {
        const auto folder = src.value("folder", std::string("shared"));
        const auto base = folder == "shared" ? golden : golden / folder;
        pixels.push_back(files.get(base / src.at("file").get<std::string>(), src.at("tensor").get<std::string>()));
    }
    if (!pixels.empty()) {
        input.pixelValues = torch::cat(pixels, 0);
        input.imageGridThw = ref("image_grid_thw");
    }
    input.logitPositions = allPositions(input.inputIds.size(0), input.inputIds.size(1));
    Trace trace;
    const auto out = forward(model, input, nullptr, &trace);
    trace["logits"] = out.logits;
    trace["rope_deltas"] = out.ropeDeltas;
    if (!dumpDir.empty()) {
        std::vector<std::pair<std::string, torch::Tensor>> tensors;
        for (const auto &[name, value] : trace)
            tensors.emplace_back(name, value.detach().to(torch::kCPU).contiguous());
        fs::create_directories(dumpDir);
        writeTensors(dumpDir / (result.name + ".ours.safetensors"), tensors);
    }

    auto file = tensor::SafetensorsFile::open(tensorFile);
    if (!file)
        throw InputError(file.error().message);
    for (const auto &info : (*file)->tensors()) {
        const auto &name = info.name;
        if (name == "input_ids" || name == "attention_mask" || name == "image_grid_thw")
            continue;
        const auto it = trace.find(name);
        if (it == trace.end()) {
            result.tensors.push_back({name, std::numeric_limits<double>::infinity(), 0, 0, false});
            continue;
        }
        const auto reference = ref(name);
        if (reference.is_floating_point())
            result.tensors.push_back(compareFloat(name, it->second, reference, mask, relative));
        else
            result.tensors.push_back(compareExact(name, it->second, reference));
    }
    return result;
}

} // namespace

bool ParityCase::ok() const
{
    return std::all_of(tensors.begin(), tensors.end(), [](const ParityTensor &t) { return t.ok; });
}

bool ParityReport::ok() const
{
    return !cases.empty() && std::all_of(cases.begin(), cases.end(), [](const ParityCase &c) { return c.ok(); });
}

json ParityReport::toJson() const
{
    json j{{"device", device}, {"dtype", dtype}, {"reference_relative_spread", relativeSpread}, {"ok", ok()}};
    j["cases"] = json::array();
    for (const auto &c : cases) {
        json tensors = json::object();
        for (const auto &t : c.tensors)
            tensors[t.name] = {{"max_abs", std::isfinite(t.maxAbs) ? json(t.maxAbs) : json("inf")},
                               {"tolerance", t.tolerance},
                               {"ref_max_abs", t.refMaxAbs},
                               {"ok", t.ok}};
        j["cases"].push_back({{"name", c.name}, {"ok", c.ok()}, {"tensors", tensors}});
    }
    return j;
}

std::string ParityReport::toText() const
{
    std::ostringstream out;
    out << "parity on " << device << " in " << dtype << " (reference relative spread " << relativeSpread << ")\n";
    for (const auto &c : cases) {
        out << c.name << (c.ok() ? "  ok" : "  FAILED") << "\n";
        for (const auto &t : c.tensors) {
            out << "  " << t.name << "  max_abs " << t.maxAbs;
            if (t.tolerance > 0)
                out << "  (tolerance " << t.tolerance << ", " << (t.maxAbs / t.tolerance) << " of it)";
            else
                out << "  (exact)";
            out << (t.ok ? "" : "  <-- past tolerance") << "\n";
        }
    }
    out << (ok() ? "all tensors within tolerance\n" : "some tensors are past their tolerance\n");
    return out.str();
}

Result<double> referenceRelativeSpread(const fs::path &goldenDir)
{
    try {
        const auto tol = readJson(goldenDir / "tolerances.json");
        double spread = 0;
        for (const auto &[caseName, c] : tol.at("cases").items()) {
            const auto f64 = c.find("float64_vs_float32");
            if (f64 != c.end() && f64->is_object())
                for (const auto &[tensorName, d] : f64->items())
                    if (d.is_object() && d.contains("max_abs_rel_to_max") && d["max_abs_rel_to_max"].is_number())
                        spread = std::max(spread, d["max_abs_rel_to_max"].get<double>());
            // The BLAS spread is recorded for logits in absolute terms; scale by the case's logit range.
            fs::path metaPath;
            for (const auto &e : fs::directory_iterator(goldenDir))
                if (e.is_directory() && fs::exists(e.path() / (caseName + ".json")))
                    metaPath = e.path() / (caseName + ".json");
            if (metaPath.empty())
                continue;
            const auto meta = readJson(metaPath);
            const auto &stats = meta.at("logits_stats");
            const double range = std::max(std::abs(stats.at("min").get<double>()), std::abs(stats.at("max").get<double>()));
            if (range > 0)
            {
                const auto blas = c.find("reference_blas_vs_openblas_logits_valid_positions");
                if (blas != c.end() && blas->is_number())
                    spread = std::max(spread, blas->get<double>() / range);
            }
        }
        if (spread <= 0)
            throw InputError((goldenDir / "tolerances.json").string() + ": records no spread");
        return spread;
    } catch (const InputError &e) {
        return std::unexpected(Error{ErrorKind::BadInput, e.what()});
    } catch (const json::exception &e) {
        return std::unexpected(Error{ErrorKind::BadInput, (goldenDir / "tolerances.json").string() + ": " + e.what()});
    }
}

Result<ParityReport> runParity(const fs::path &modelDir, const fs::path &goldenDir, torch::Device device,
                               torch::ScalarType dtype, const std::function<void(const std::string &)> &log,
                               const fs::path &dumpDir)
{
    ParityReport report;
    report.device = device.str();
    report.dtype = dtype == torch::kFloat32 ? "fp32" : dtype == torch::kBFloat16 ? "bf16" : "fp16";
    auto spread = referenceRelativeSpread(goldenDir);
    if (!spread)
        return std::unexpected(spread.error());
    report.relativeSpread = *spread;
    const double relative = dtype == torch::kFloat32 ? kIndependentFactor * *spread
                                                     : kLowPrecisionFactor * unitRoundoff(dtype);
    auto model = loadQwen2VL(modelDir, {device, dtype, log});
    if (!model)
        return std::unexpected(model.error());
    torch::InferenceMode inference;
    try {
        std::vector<fs::path> indexes;
        for (const auto &e : fs::directory_iterator(goldenDir))
            if (e.is_directory() && e.path().filename().string().starts_with("cases_") &&
                fs::exists(e.path() / "index.json"))
                indexes.push_back(e.path() / "index.json");
        std::sort(indexes.begin(), indexes.end());
        if (indexes.empty())
            throw InputError(goldenDir.string() + ": no cases_*/index.json");
        TensorFiles files;
        for (const auto &index : indexes) {
            const auto listed = readJson(index);
            for (const auto &entry : listed.at("cases")) {
                report.cases.push_back(runCase(*model, goldenDir, entry, files, relative, dumpDir));
                if (log)
                    log(report.cases.back().name + (report.cases.back().ok() ? ": ok" : ": FAILED"));
            }
        }
    } catch (const InputError &e) {
        return std::unexpected(Error{ErrorKind::BadInput, e.what()});
    } catch (const json::exception &e) {
        return std::unexpected(Error{ErrorKind::BadInput, goldenDir.string() + ": " + e.what()});
    }
    return report;
}

} // namespace unirank::model
