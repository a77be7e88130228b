"""End-to-end reference margins from Hugging Face transformers 4.45.1 for a Qwen2-VL model folder and a
BEIR-style dataset folder (queries.jsonl, corpus.jsonl, run.trec, images/), exactly as `unirank-cli
score` computes them: for every (query, candidate) of the run, the whole prompt string is built from the
template, tokenized at once by Qwen2VLProcessor (slow Qwen2Tokenizer, <|image_pad|> expanded to the
grid), the model runs eager in the given dtype on CPU with M-RoPE positions (see
hf_common.mrope_positions), and margin = logit(positive) - logit(negative) at the last position.

  python3 score_reference.py MODEL_DIR DATASET_DIR TEMPLATE_JSON OUT_JSON [--ids] [--dtype float32]

TEMPLATE_JSON: a UniRank prompt template (resources/prompts/*.json; fields system (null: no system
turn), instruction, user, assistant, labels). OUT_JSON: {"reference", "margins": {qid: {docid: margin}}, "ids": {qid: {docid: [...]}}}.
A candidate is `<|vision_start|><|image_pad|><|vision_end|>` + its text when it has an image, a query
likewise; images are read by hf_common.load_image (transparency over white). Candidate text = title + "\\n" + text when both are present (as the project imports them)."""
import argparse
import json
import os
import sys

import torch
from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hf_common  # noqa: E402

VISION = "<|vision_start|><|image_pad|><|vision_end|>"


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def item_text(obj):
    title, text = obj.get("title", ""), obj.get("text", "")
    if title and text:
        return title + "\n" + text
    return title or text


def prompt_string(template, query, candidate):
    """The whole prompt for one pair; `query` and `candidate` are (text, has_image)."""
    user = template["user"].replace("{instruction}", template.get("instruction", ""))
    q = (VISION if query[1] else "") + query[0]
    c = (VISION if candidate[1] else "") + candidate[0]
    at = user.index("{candidate}")
    before, after = user[:at], user[at + len("{candidate}"):]
    user = before.replace("{query}", q) + c + after.replace("{query}", q)
    system = template.get("system", "")
    head = "" if system is None else "<|im_start|>system\n" + system + "<|im_end|>\n"
    return (head + "<|im_start|>user\n" + user + "<|im_end|>\n<|im_start|>assistant\n" +
            template.get("assistant", ""))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("dataset")
    ap.add_argument("template")
    ap.add_argument("out")
    ap.add_argument("--ids", action="store_true", help="also store every prompt's input ids")
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--only", default="", help="comma-separated qid/docid pairs to score (default: all)")
    args = ap.parse_args()

    hf_common.deterministic()
    template = json.load(open(args.template, encoding="utf-8"))
    proc = hf_common.processor(args.model)
    tok = proc.tokenizer
    model = hf_common.load_model(args.model, getattr(torch, args.dtype))
    pos = tok.convert_tokens_to_ids(tok.tokenize(template["labels"]["positive"]))
    neg = tok.convert_tokens_to_ids(tok.tokenize(template["labels"]["negative"]))
    assert len(pos) == 1 and len(neg) == 1, "labels must be single tokens"

    queries = {q["_id"]: q for q in read_jsonl(os.path.join(args.dataset, "queries.jsonl"))}
    corpus = {c["_id"]: c for c in read_jsonl(os.path.join(args.dataset, "corpus.jsonl"))}
    pairs = []
    with open(os.path.join(args.dataset, "run.trec"), encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 3:
                pairs.append((parts[0], parts[2]))
    only = set(tuple(p.split("/")) for p in args.only.split(",") if p)

    def image_of(obj):
        return hf_common.load_image(os.path.join(args.dataset, obj["image"])) if obj.get("image") else None

    margins, ids_out = {}, {}
    with torch.no_grad():
        for qid, did in pairs:
            if only and (qid, did) not in only:
                continue
            q, c = queries[qid], corpus[did]
            images = [im for im in (image_of(q), image_of(c)) if im is not None]
            if len(images) == 2 and template["user"].index("{query}") > template["user"].index("{candidate}"):
                images.reverse()  # the processor takes images in prompt order
            text = prompt_string(template, (q.get("text", ""), bool(q.get("image"))), (item_text(c), bool(c.get("image"))))
            inputs = proc(text=[text], images=images or None, return_tensors="pt")
            out = model(**hf_common.model_inputs(model, inputs), use_cache=False)
            last = out.logits[0, -1].double()
            margins.setdefault(qid, {})[did] = float(last[pos[0]] - last[neg[0]])
            if args.ids:
                ids_out.setdefault(qid, {})[did] = inputs["input_ids"][0].tolist()
            print(qid, did, inputs["input_ids"].shape[1], margins[qid][did], flush=True)
    import transformers

    result = {"reference": "transformers " + transformers.__version__ + " " + type(model).__name__ + ", eager, " + args.dtype +
              ", CPU; Qwen2VLProcessor with the slow Qwen2Tokenizer; whole prompt tokenized at once",
              "margins": margins}
    if args.ids:
        result["ids"] = ids_out
    tmp = args.out + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        json.dump(result, f, indent=1)
    os.replace(tmp, args.out)


if __name__ == "__main__":
    main()
