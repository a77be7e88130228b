"""Reference input ids of whole prompts from Hugging Face transformers 4.45.1's Qwen2VLProcessor (slow
Qwen2Tokenizer from tokenizer.json, the image processor of the given preprocessor config), for every
(query, candidate) of a BEIR-style dataset folder and every template given. No model is run.

  python3 prompt_ids_reference.py TOKENIZER_DIR PREPROCESSOR_DIR DATASET_DIR OUT_JSON TEMPLATE_JSON...

OUT_JSON: {"reference", "templates": {name: template}, "labels": {name: [positive id, negative id]},
"ids": {name: {qid: {docid: [ids]}}}}, with each <|image_pad|> run written as [-N] (N pads) to keep the
file small."""
import json
import os
import sys

from PIL import Image

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hf_common  # noqa: E402
import score_reference as sr  # noqa: E402


def compress(ids, pad):
    out = []
    for i in ids:
        if i == pad and out and out[-1] < 0:
            out[-1] -= 1
        elif i == pad:
            out.append(-1)
        else:
            out.append(i)
    return out


def main():
    tok_dir, proc_dir, dataset, out_path = sys.argv[1:5]
    templates = [json.load(open(p, encoding="utf-8")) for p in sys.argv[5:]]
    from transformers import Qwen2VLImageProcessor, Qwen2VLProcessor

    tok = hf_common.slow_tokenizer(os.path.join(tok_dir, "tokenizer.json"))
    proc = Qwen2VLProcessor(image_processor=Qwen2VLImageProcessor.from_pretrained(proc_dir), tokenizer=tok)
    pad = tok.convert_tokens_to_ids("<|image_pad|>")
    queries = {q["_id"]: q for q in sr.read_jsonl(os.path.join(dataset, "queries.jsonl"))}
    corpus = {c["_id"]: c for c in sr.read_jsonl(os.path.join(dataset, "corpus.jsonl"))}
    pairs = [line.split()[:3:2] for line in open(os.path.join(dataset, "run.trec"), encoding="utf-8") if line.strip()]
    result = {"reference": "transformers 4.45.1 Qwen2VLProcessor (slow Qwen2Tokenizer), whole prompt string at once",
              "templates": {t["name"]: t for t in templates}, "labels": {}, "ids": {}}
    for t in templates:
        table = result["ids"].setdefault(t["name"], {})
        labels = [tok.convert_tokens_to_ids(tok.tokenize(t["labels"][k])) for k in ("positive", "negative")]
        assert all(len(x) == 1 for x in labels), "labels must be single tokens"
        result["labels"][t["name"]] = [labels[0][0], labels[1][0]]
        for qid, did in pairs:
            q, c = queries[qid], corpus[did]
            if q.get("image") and "{query}" not in t["user"]:
                continue
            images = [hf_common.load_image(os.path.join(dataset, o["image"])) for o in (q, c) if o.get("image")]
            if q.get("image") and c.get("image") and t["user"].index("{query}") > t["user"].index("{candidate}"):
                images.reverse()  # the processor takes images in prompt order
            text = sr.prompt_string(t, (q.get("text", ""), bool(q.get("image"))), (sr.item_text(c), bool(c.get("image"))))
            ids = proc(text=[text], images=images or None, return_tensors="pt")["input_ids"][0].tolist()
            table.setdefault(qid, {})[did] = compress(ids, pad)
    with open(out_path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(result, f, ensure_ascii=False, separators=(",", ":"))
    os.replace(out_path + ".tmp", out_path)


if __name__ == "__main__":
    main()
