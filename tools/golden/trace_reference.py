"""Intermediate tensors of Hugging Face transformers 4.45.1 for one (query, candidate) prompt, written as a
golden case that `unirank-cli parity` reads (the layout of ../../tests/data/golden/qwen2vl: index.json,
CASE.json, CASE.safetensors, CASE.pixels.safetensors, tolerances.json).

  python3 trace_reference.py MODEL_DIR DATASET_DIR TEMPLATE_JSON QID DOCID OUT_DIR CASE [--no-f64]

Recorded (float32 forward, eager, CPU): position_ids, rope_deltas, vision.rot_pos_emb, vision.patch_embed,
vision.block.N, image_embeds, inputs_embeds, decoder_layer.N, last_hidden_state, and `logits` at every
position when the vocabulary times length is small (else only logits_stats). The float64 rerun
(model.double(), same inputs) records how far float32 itself moves, as tolerances.json."""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hf_common  # noqa: E402
import score_reference as sr  # noqa: E402
from safetensors.torch import save_file  # noqa: E402  (the pure-Python stand-in)
from PIL import Image  # noqa: E402


def run(model, inputs, record_logits):
    """Forward with hooks on transformers' own modules (either release's layout, hf_common.parts)."""
    trace = {}
    hooks = []
    visual, layers, norm = hf_common.parts(model)
    first = lambda o: o[0] if isinstance(o, tuple) else o  # noqa: E731
    hooks.append(visual.patch_embed.register_forward_hook(lambda m, a, o: trace.__setitem__("vision.patch_embed", o)))
    for i, blk in enumerate(visual.blocks):
        hooks.append(blk.register_forward_hook(lambda m, a, o, i=i: trace.__setitem__(f"vision.block.{i}", o)))

    def visual_out(m, a, o):
        trace["image_embeds"] = getattr(o, "pooler_output", o) if not isinstance(o, torch.Tensor) else o
        for k, d in enumerate(getattr(o, "deepstack_features", None) or []):
            trace[f"deepstack.{k}"] = d

    hooks.append(visual.register_forward_hook(visual_out))
    hooks.append(layers[0].register_forward_pre_hook(lambda m, a: trace.__setitem__("inputs_embeds", a[0])))
    for i, layer in enumerate(layers):
        hooks.append(layer.register_forward_hook(lambda m, a, o, i=i: trace.__setitem__(f"decoder_layer.{i}", first(o))))
    hooks.append(norm.register_forward_hook(lambda m, a, o: trace.__setitem__("last_hidden_state", o)))
    kwargs = hf_common.model_inputs(model, inputs)
    with torch.no_grad():
        grid = inputs.get("image_grid_thw")
        if "position_ids" in kwargs:  # 4.45.1: passed in
            pos, deltas = model.get_rope_index(inputs["input_ids"], grid, None, inputs["attention_mask"])
        else:  # main: computed by forward
            pos, deltas = hf_common.main_rope_index(model, kwargs)
        out = model(**kwargs, use_cache=False)
        if grid is not None and hasattr(visual, "rot_pos_emb"):
            trace["vision.rot_pos_emb"] = visual.rot_pos_emb(grid)
    for h in hooks:
        h.remove()
    trace["position_ids"] = pos
    trace["rope_deltas"] = deltas
    logits = out.logits
    stats = {"mean": float(logits.double().mean()), "std": float(logits.double().std()),
             "min": float(logits.min()), "max": float(logits.max())}
    if record_logits:
        trace["logits"] = logits
    return trace, stats


def main():
    ap = argparse.ArgumentParser()
    for name in ("model", "dataset", "template", "qid", "docid", "out", "case"):
        ap.add_argument(name)
    ap.add_argument("--no-f64", action="store_true")
    ap.add_argument("--max-logit-values", type=int, default=4_000_000)
    args = ap.parse_args()

    hf_common.deterministic()
    template = json.load(open(args.template, encoding="utf-8"))
    proc = hf_common.processor(args.model)
    model = hf_common.load_model(args.model, torch.float32)
    queries = {q["_id"]: q for q in sr.read_jsonl(os.path.join(args.dataset, "queries.jsonl"))}
    corpus = {c["_id"]: c for c in sr.read_jsonl(os.path.join(args.dataset, "corpus.jsonl"))}
    q, c = queries[args.qid], corpus[args.docid]
    images = [hf_common.load_image(os.path.join(args.dataset, o["image"])) for o in (q, c) if o.get("image")]
    if len(images) == 2 and template["user"].index("{query}") > template["user"].index("{candidate}"):
        images.reverse()  # the processor takes images in prompt order
    text = sr.prompt_string(template, (q.get("text", ""), bool(q.get("image"))),
                            (sr.item_text(c), bool(c.get("image"))))
    inputs = dict(proc(text=[text], images=images or None, return_tensors="pt"))
    write_case(model, inputs, args.out, args.case, f"{args.qid} / {args.docid}", text, not args.no_f64,
               args.max_logit_values)


def write_case(model, inputs, out_dir, case, description, prompt, f64=True, max_logit_values=4_000_000):
    """Runs the prompt, writes out_dir/cases_r/CASE.{json,safetensors,pixels.safetensors}, updates
    index.json and (with f64) tolerances.json."""
    length = inputs["input_ids"].shape[1]
    record_logits = length * model.config.get_text_config().vocab_size <= max_logit_values
    trace, stats = run(model, inputs, record_logits)

    sub = os.path.join(out_dir, "cases_r")
    os.makedirs(sub, exist_ok=True)
    tensors = {"input_ids": inputs["input_ids"], "attention_mask": inputs["attention_mask"]}
    meta = {"name": case, "description": description, "batch_size": 1, "seq_len": length,
            "valid_lengths": [length], "logits_stats": stats, "prompt": prompt, "pixel_values_from": []}
    if "pixel_values" in inputs:
        tensors["image_grid_thw"] = inputs["image_grid_thw"]
        save_file({"pixel_values": inputs["pixel_values"].contiguous()}, os.path.join(sub, case + ".pixels.safetensors"))
        meta["pixel_values_from"] = [{"folder": "cases_r", "file": case + ".pixels.safetensors",
                                      "tensor": "pixel_values", "rows": int(inputs["pixel_values"].shape[0])}]
        meta["image_grid_thw"] = inputs["image_grid_thw"].tolist()
    for k, v in trace.items():
        tensors[k] = v.contiguous()
    meta["tensors"] = {k: {"dtype": str(v.dtype).replace("torch.", ""), "shape": list(v.shape)} for k, v in tensors.items()}

    tolerances_path = os.path.join(out_dir, "tolerances.json")
    tol = json.load(open(tolerances_path)) if os.path.exists(tolerances_path) else {
        "what": "max |difference| of float64 vs float32 reference outputs (see trace_reference.py)", "cases": {}}
    if f64:
        model64 = model.double()
        inputs64 = {k: (v.double() if v.is_floating_point() else v) for k, v in inputs.items()}
        trace64, _ = run(model64, inputs64, False)
        model.float()
        diffs = {}
        for name in ("image_embeds", "inputs_embeds", "last_hidden_state"):
            if name in trace:
                d = (trace64[name] - trace[name].double()).abs().max().item()
                diffs[name] = {"max_abs": d, "max_abs_rel_to_max": d / trace[name].abs().max().item()}
        tol["cases"][case] = {"float64_vs_float32": diffs}
    save_file(tensors, os.path.join(sub, case + ".safetensors"))
    with open(os.path.join(sub, case + ".json"), "w", encoding="utf-8") as f:
        json.dump(meta, f, indent=1, ensure_ascii=False)
    index_path = os.path.join(sub, "index.json")
    index = json.load(open(index_path)) if os.path.exists(index_path) else {"cases": []}
    index["cases"] = [e for e in index["cases"] if e["name"] != case] + [{
        "name": case, "json": f"cases_r/{case}.json", "tensors": f"cases_r/{case}.safetensors",
        "description": description}]
    with open(index_path, "w", encoding="utf-8") as f:
        json.dump(index, f, indent=1)
    with open(tolerances_path, "w", encoding="utf-8") as f:
        json.dump(tol, f, indent=1)
    print(case, length, "tokens", {k: list(v.shape) for k, v in trace.items()})


if __name__ == "__main__":
    main()
