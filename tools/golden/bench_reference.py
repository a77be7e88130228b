"""Text-pair throughput of Hugging Face transformers (4.45.1) on the pairs `unirank-cli bench score
--text-only --json` scored, measured the same way: the same model folder and dtype, the same prompts
(the template UniRank serves, whole prompt tokenized at once), batches of the same size with left
padding and an attention mask, CPU threads as given, a warm-up batch first, wall time over all pairs.

Two ways of running the model are timed:
  default    model(**inputs): logits for every position (what a plain forward does)
  last-only  the decoder, then the LM head on the last position only (the least a reranker needs)

  python3 bench_reference.py MODEL_DIR DATASET_DIR TEMPLATE_JSON BENCH_JSON [--batch 8] [--threads 2]
                             [--dtype float32] [--attn sdpa|eager] [--only default,last-only]

BENCH_JSON: the output of `unirank-cli bench score --text-only --json` (its "text_pairs": "qid/docid").
Prints one JSON object with pairs/s and tokens per pair for each way."""
import argparse
import json
import os
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hf_common  # noqa: E402
from score_reference import item_text, prompt_string, read_jsonl  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("model")
    ap.add_argument("dataset")
    ap.add_argument("template")
    ap.add_argument("bench_json")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--dtype", default="float32")
    ap.add_argument("--attn", default="sdpa")
    ap.add_argument("--only", default="default,last-only")
    args = ap.parse_args()

    torch.manual_seed(0)
    torch.set_num_threads(args.threads)
    bench = json.load(open(args.bench_json, encoding="utf-8"))
    pairs = [tuple(p.split("/", 1)) for p in bench["text_pairs"]]
    template = json.load(open(args.template, encoding="utf-8"))
    proc = hf_common.processor(args.model)
    tok = proc.tokenizer
    tok.padding_side = "left"
    import transformers

    cls = getattr(transformers, hf_common.CLASSES[hf_common.model_type(args.model)])
    try:
        model = cls.from_pretrained(args.model, torch_dtype=getattr(torch, args.dtype), attn_implementation=args.attn)
    except (ValueError, ImportError):  # an attention implementation this torch lacks
        args.attn = "eager"
        model = cls.from_pretrained(args.model, torch_dtype=getattr(torch, args.dtype), attn_implementation="eager")
    model.eval()

    queries = {q["_id"]: q for q in read_jsonl(os.path.join(args.dataset, "queries.jsonl"))}
    corpus = {c["_id"]: c for c in read_jsonl(os.path.join(args.dataset, "corpus.jsonl"))}
    texts = [prompt_string(template, (queries[q].get("text", ""), False), (item_text(corpus[d]), False)) for q, d in pairs]
    batches = [texts[i:i + args.batch] for i in range(0, len(texts), args.batch)]

    def run(way, batch):
        inputs = proc(text=batch, images=None, return_tensors="pt", padding=True)
        kwargs = hf_common.model_inputs(model, inputs)
        if way == "default":
            logits = model(**kwargs, use_cache=False).logits[:, -1]
        else:
            inner = model.model
            hidden = inner(input_ids=kwargs["input_ids"], attention_mask=kwargs["attention_mask"],
                           position_ids=kwargs.get("position_ids"), use_cache=False)[0]
            logits = model.lm_head(hidden[:, -1])
        return logits, int(inputs["attention_mask"].sum())

    result = {"reference": "transformers " + transformers.__version__ + " " + type(model).__name__ + ", " + args.attn +
              ", " + args.dtype + ", CPU, " + str(args.threads) + " threads",
              "batch_size": args.batch, "pairs": len(pairs)}
    with torch.no_grad():
        for way in args.only.split(","):
            run(way, batches[0])  # warm-up
            tokens = 0
            start = time.perf_counter()
            for b in batches:
                tokens += run(way, b)[1]
            seconds = time.perf_counter() - start
            result[way] = {"seconds": seconds, "pairs_per_s": len(pairs) / seconds, "tokens_per_pair": tokens / len(pairs)}
            print(way, result[way], file=sys.stderr, flush=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
