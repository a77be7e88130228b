"""End-to-end margins (and, with --trace, one prompt's intermediate tensors) from transformers main for a
Qwen2-VL, Qwen2.5-VL or Qwen3-VL folder. Runs in the Debian 13 chroot (chroot-main.sh), where there is no
slow tokenizer: the prompts' input ids come from prompt_ids_reference.py (transformers 4.45.1's slow
Qwen2Tokenizer and Qwen2VLProcessor, run outside); images go through main's PIL image processor
(Qwen2VLImageProcessorPil, the slow path) with the folder's preprocessor_config.json, which also sets
the length of each <|image_pad|> run.

  python3 score_reference_main.py MODEL DATASET IDS_JSON TEMPLATE_NAME OUT [--dtype float32|float64]
  python3 score_reference_main.py MODEL DATASET IDS_JSON TEMPLATE_NAME OUT_DIR --trace QID/DOCID CASE
"""
import argparse
import json
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hf_common  # noqa: E402
import score_reference as sr  # noqa: E402


def build_inputs(proc, model, dataset, template, q, c, ids):
    images = [hf_common.load_image(os.path.join(dataset, o["image"])) for o in (q, c) if o.get("image")]
    if len(images) == 2 and template["user"].index("{query}") > template["user"].index("{candidate}"):
        images.reverse()  # prompt order
    inputs = {}
    runs = [-i for i in ids if i < 0]
    if images:
        pix = proc(images=images, return_tensors="pt")
        inputs["pixel_values"] = pix["pixel_values"]
        inputs["image_grid_thw"] = pix["image_grid_thw"]
        # Each <|image_pad|> run gets this processor's length (4.45.1's processor, which made the ids,
        # knows neither patch 16 nor size.shortest_edge/longest_edge).
        merge = proc.merge_size ** 2
        runs = [int(g.prod()) // merge for g in pix["image_grid_thw"]]
    full, k = [], 0
    for i in ids:
        if i < 0:
            full.extend([model.config.image_token_id] * runs[k])
            k += 1
        else:
            full.append(i)
    inputs["input_ids"] = torch.tensor([full])
    inputs["attention_mask"] = torch.ones(1, len(full), dtype=torch.long)
    return inputs


def main():
    ap = argparse.ArgumentParser()
    for name in ("model", "dataset", "ids", "template", "out"):
        ap.add_argument(name)
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--trace", nargs=2, metavar=("QID/DOCID", "CASE"))
    ap.add_argument("--image-processor", choices=("pil", "torchvision"), default="pil",
                    help="pil: Pillow bicubic as the slow processor and UniRank; torchvision: main's default")
    args = ap.parse_args()
    hf_common.deterministic()
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil
    import transformers

    table = json.load(open(args.ids, encoding="utf-8"))
    template = table["templates"][args.template]
    prompts = table["ids"][args.template]
    pos, neg = table["labels"][args.template]
    if args.image_processor == "pil":
        proc = Qwen2VLImageProcessorPil.from_pretrained(args.model)
    else:
        from transformers.models.qwen2_vl.image_processing_qwen2_vl import Qwen2VLImageProcessor

        proc = Qwen2VLImageProcessor.from_pretrained(args.model)
    model = hf_common.load_model(args.model, getattr(torch, args.dtype))
    queries = {q["_id"]: q for q in sr.read_jsonl(os.path.join(args.dataset, "queries.jsonl"))}
    corpus = {c["_id"]: c for c in sr.read_jsonl(os.path.join(args.dataset, "corpus.jsonl"))}
    if args.trace:
        import trace_reference as tr

        qid, did = args.trace[0].split("/")
        inputs = build_inputs(proc, model, args.dataset, template, queries[qid], corpus[did], prompts[qid][did])
        tr.write_case(model, inputs, args.out, args.trace[1], f"{qid} / {did}", "")
        return
    margins = {}
    with torch.no_grad():
        for qid, docs in prompts.items():
            for did, ids in docs.items():
                inputs = build_inputs(proc, model, args.dataset, template, queries[qid], corpus[did], ids)
                # logits_to_keep=1: the LM head at the last position only (transformers' own option)
                out = model(**hf_common.model_inputs(model, inputs), use_cache=False, logits_to_keep=1)
                last = out.logits[0, -1].double()
                margins.setdefault(qid, {})[did] = float(last[pos] - last[neg])
                print(qid, did, inputs["input_ids"].shape[1], margins[qid][did], flush=True)
    result = {"reference": f"transformers {transformers.__version__} {type(model).__name__}, eager, {args.dtype}, CPU, "
                           f"torch {torch.__version__}; ids from {table['reference']}; images by {type(proc).__name__}",
              "margins": margins}
    with open(args.out + ".tmp", "w", encoding="utf-8") as f:
        json.dump(result, f, indent=1)
    os.replace(args.out + ".tmp", args.out)


if __name__ == "__main__":
    main()
