"""Training parity data from transformers main for a tiny checkpoint of any family (random-checkpoint
--preset tiny --family F --dtype fp32): the synthetic prompt of trace_synthetic_main.py with one answer
token, labels -100 except the last position (transformers' shifted cross-entropy = CE(logits[L-2],
answer)), model.train() (dropouts are 0). Records the loss, the logits that predict the answer, every
parameter's gradient norm, full gradients of a few parameters, the loss after one SGD step (lr 0.1) and
the losses around three AdamW steps; the float64 rerun of the same model gives the spread the C++ test's
tolerances come from.

  python3 train_reference_main.py MODEL_DIR IMAGE OUT_DIR"""
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hf_common  # noqa: E402
from safetensors.torch import save_file  # noqa: E402

ANSWER = 17
FULL = ("lm_head.weight", "model.embed_tokens.weight", "model.layers.0.self_attn.q_proj.weight",
        "model.layers.1.mlp.down_proj.weight", "visual.blocks.0.attn.qkv.weight", "visual.patch_embed.proj.weight")


def canonical(name):
    for old, new in (("model.language_model.", "model."), ("model.visual.", "visual.")):
        if name.startswith(old):
            return new + name[len(old):]
    return name


def loss_of(model, kwargs, labels):
    return model(**kwargs, labels=labels, use_cache=False)


def main():
    model_dir, image, out = sys.argv[1:4]
    hf_common.deterministic()
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    proc = Qwen2VLImageProcessorPil.from_pretrained(model_dir)
    pix = proc(images=[hf_common.load_image(image)], return_tensors="pt")
    model = hf_common.load_model(model_dir, torch.float32)
    cfg = model.config
    pads = int(pix["image_grid_thw"][0].prod()) // proc.merge_size ** 2
    ids = ([(7 * i + 3) % 480 for i in range(24)] + [cfg.vision_start_token_id] + [cfg.image_token_id] * pads
           + [cfg.vision_end_token_id] + [(11 * i + 5) % 480 for i in range(8)] + [ANSWER])
    inputs = {"input_ids": torch.tensor([ids]), "attention_mask": torch.ones(1, len(ids), dtype=torch.long),
              "pixel_values": pix["pixel_values"], "image_grid_thw": pix["image_grid_thw"]}
    labels = torch.full((1, len(ids)), -100, dtype=torch.long)
    labels[0, -1] = ANSWER

    def run(m, dtype):
        m.train()
        kwargs = hf_common.model_inputs(m, {k: (v.to(dtype) if v.is_floating_point() else v) for k, v in inputs.items()})
        m.zero_grad()
        o = loss_of(m, kwargs, labels)
        o.loss.backward()
        grads = {canonical(n): p.grad.detach().clone() for n, p in m.named_parameters() if p.grad is not None}
        return o, grads, kwargs

    o32, g32, kwargs = run(model, torch.float32)
    meta = {"description": "synthetic ids around one image + answer token 17; labels -100 except the last; "
                           "transformers main, model.train(), eager, float32 CPU",
            "answer_token_id": ANSWER, "seq_len": len(ids), "loss": float(o32.loss),
            "grad_norms": {n: float(g.double().norm()) for n, g in g32.items()},
            "grad_total_norm": float(torch.sqrt(sum(g.double().norm() ** 2 for g in g32.values())))}
    tensors = {"input_ids": inputs["input_ids"], "attention_mask": inputs["attention_mask"], "labels": labels,
               "image_grid_thw": inputs["image_grid_thw"], "last_logits": o32.logits[0, -2].detach().contiguous()}
    for n in FULL:
        if n in g32:
            tensors["grad." + n] = g32[n].contiguous()
    # One SGD step and three AdamW steps, each from the loaded weights.
    state = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.no_grad():
        for p in model.parameters():
            p -= 0.1 * p.grad
        model.eval()
        meta["sgd"] = {"lr": 0.1, "loss_after_one_step": float(loss_of(model, kwargs, labels).loss)}
    model.load_state_dict(state)
    opt = torch.optim.AdamW(model.parameters(), lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0.01)
    losses = []
    model.train()
    for step in range(4):
        opt.zero_grad()
        loss = loss_of(model, kwargs, labels).loss
        losses.append(float(loss))
        if step == 3:
            break
        loss.backward()
        opt.step()
    meta["adamw"] = {"lr": 1e-3, "betas": [0.9, 0.999], "eps": 1e-8, "weight_decay": 0.01,
                     "loss_before_step_1_2_3_and_after_step_3": losses}
    # The same model in float64: how far float32 itself moves.
    model.load_state_dict(state)
    model64 = model.double()
    o64, g64, _ = run(model64, torch.float64)
    meta["loss_float64_model"] = float(o64.loss)
    meta["grad_max_relative_error_vs_float64"] = max(
        float((g32[n].double() - g64[n]).norm() / max(float(g64[n].norm()), 1e-30)) for n in g32)
    os.makedirs(out, exist_ok=True)
    save_file({k: v.contiguous() for k, v in tensors.items()}, os.path.join(out, "train.safetensors"))
    save_file({"pixel_values": inputs["pixel_values"].contiguous()}, os.path.join(out, "train.pixels.safetensors"))
    with open(os.path.join(out, "train.json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=1)
    print(json.dumps({k: meta[k] for k in ("loss", "loss_float64_model", "grad_max_relative_error_vs_float64")}))


if __name__ == "__main__":
    main()
