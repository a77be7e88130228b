// SPDX-License-Identifier: GPL-3.0-or-later
#include "core/training/trainable_policy.h"

#include "core/model/torch_io.h"
#include "core/tensor/checkpoint.h"
#include "core/util/atomic_file.h"

namespace fs = std::filesystem;

namespace unirank::training {

TrainablePolicy::TrainablePolicy(std::shared_ptr<scoring::ScoringModel> model, std::string baseModel,
                                 std::size_t embeddingCacheBytes)
    : m_model(std::move(model)), m_base(std::move(baseModel)), m_embeds(embeddingCacheBytes)
{
}

void TrainablePolicy::setup(const TrainingArguments &c, const fs::path &from)
{
    auto &m = m_model->model;
    for (auto &p : m->parameters())
        p.set_requires_grad(false);
    m_params.clear();
    m_embeds.clearMemory();
    torch::manual_seed(c.seed);
    m_full = c.full_finetune;
    if (m_full) {
        if (!from.empty()) {
            auto ckpt = tensor::Checkpoint::open(from / "model");
            if (!ckpt)
                throw InputError(ckpt.error().message);
            if (auto loaded = model::loadWeights(m, *ckpt); !loaded)
                throw InputError(loaded.error().message);
        }
        for (auto &p : m->named_parameters())
            if (!p.key().starts_with("visual.")) {
                p.value().set_requires_grad(true);
                m_params.push_back(p.value());
            }
    } else {
        m_lora.settings = {c.r, c.lora_alpha, c.lora_dropout, c.use_rslora};
        m_lora.targetModules = c.target_modules;
        m_lora.vision = c.lora_vision;
        if (!from.empty()) {
            auto loaded = model::loadLoraAdapter(m, from);
            if (!loaded)
                throw InputError(loaded.error().message);
            m_lora = *loaded; // a continued adapter keeps its own rank, alpha, dropout and targets
        } else {
            model::removeLoraAdapters(m);
            model::addLoraAdapters(m, m_lora);
        }
        m_visionTrainable = m_lora.vision;
        for (auto &[name, t] : model::loraParameters(m)) {
            t.set_requires_grad(true);
            m_params.push_back(t);
        }
    }
    m->decoder()->setGradientCheckpointing(c.gradient_checkpointing);
    m->train();
}

void TrainablePolicy::disableAdapterDropout()
{
    for (const auto &module : m_model->model->modules(false))
        if (auto *layer = module->as<model::LoraLinearImpl>(); layer && layer->hasAdapter())
            layer->setAdapterDropout(0.0);
}

torch::Tensor TrainablePolicy::logits(Batch &batch, PairEncoder &images)
{
    auto &m = m_model->model;
    if (batch.input.imageGridThw.defined() && !batch.input.pixelValues.defined() && !batch.input.imageEmbeds.defined()) {
        const auto device = m->device();
        std::vector<torch::Tensor> rows;
        std::int64_t index = 0;
        for (const auto *p : batch.pairs)
            for (const auto &key : p->imageKeys) {
                const auto grid = batch.input.imageGridThw.narrow(0, index++, 1);
                if (m_visionTrainable) {
                    rows.push_back(images.pixels(key));
                    continue;
                }
                auto cached = m_embeds.get(key);
                if (!cached) {
                    torch::NoGradGuard noGrad;
                    cached = m->visual()(images.pixels(key).to(device), grid);
                    m_embeds.put(key, *cached);
                }
                rows.push_back(cached->to(device));
            }
        if (m_visionTrainable)
            batch.input.pixelValues = torch::cat(rows).to(device);
        else
            batch.input.imageEmbeds = torch::cat(rows);
    }
    return model::forward(m, batch.input).logits;
}

torch::Tensor TrainablePolicy::margins(Batch &batch, PairEncoder &images)
{
    const auto l = logits(batch, images).select(1, 0).to(torch::kFloat32); // [B, 2]: negative, positive
    return l.select(1, 1) - l.select(1, 0);
}

void TrainablePolicy::writeModelFiles(const fs::path &folder)
{
    if (m_full) {
        model::saveQwen2VL(m_model->model, folder / "model");
        for (const char *name : {"tokenizer.json", "tokenizer_config.json", "preprocessor_config.json", "unirank_prompt.json"})
            if (fs::exists(m_model->folder / name))
                fs::copy_file(m_model->folder / name, folder / "model" / name, fs::copy_options::overwrite_existing);
    } else {
        model::writeLoraAdapterFiles(m_model->model, m_lora, folder, m_base);
    }
    // The template it was trained with goes with it: the scorer reads an adapter's (or checkpoint's)
    // unirank_prompt.json before the base model's, so what was trained is what is scored.
    writeFileAtomically((m_full ? folder / "model" : folder) / "unirank_prompt.json", m_model->prompt->prompt().toJson().dump(1) + "\n");
}

} // namespace unirank::training
