"""Reference input ids for Qwen3-VL-Reranker's own prompt layout, built the way its authors build it and
independently of UniRank's template engine: the messages of `format_mm_instruction` in the reranker's
published scripts (Qwen3-VL-Embedding repository, scripts/qwen3_vl_reranker.py) --
  system: "Judge whether the Document meets the requirements based on the Query and the Instruct
           provided. Note that the answer can only be \"yes\" or \"no\"."
  user:   [text "<Instruct>: " + instruction, text "<Query>:", image?, text query?,
           text "\n<Document>:", image?, text document?]
-- rendered as Qwen3-VL's chat template renders a list of content items (texts concatenated as they
are, each image as <|vision_start|><|image_pad|><|vision_end|>), then the generation prompt
"<|im_start|>assistant\n" (the reranker keeps exactly those last 5 tokens when it truncates), and
tokenized at once by transformers 4.45.1's Qwen2VLProcessor (slow Qwen2Tokenizer from tokenizer.json;
an image processor with Qwen3-VL's patch 16 and Hub limits expands each <|image_pad|>).

  python3 qwen3_vl_reranker_ids.py TOKENIZER_DIR DATASET_DIR OUT_JSON

OUT_JSON: {"reference", "instruction", "ids": {qid: {docid: [ids]}}} with <|image_pad|> runs as [-N]."""
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hf_common  # noqa: E402
import prompt_ids_reference as pir  # noqa: E402
import score_reference as sr  # noqa: E402

SYSTEM = ('Judge whether the Document meets the requirements based on the Query and the Instruct provided. '
          'Note that the answer can only be "yes" or "no".')
INSTRUCTION = "Given a search query, retrieve relevant candidates that answer the query."


def content(prefix, text, has_image):
    items = [{"type": "text", "text": prefix}]
    if not text and not has_image:
        return items + [{"type": "text", "text": "NULL"}]
    if has_image:
        items.append({"type": "image"})
    if text:
        items.append({"type": "text", "text": text})
    return items


def render(messages):
    out = ""
    for m in messages:
        out += "<|im_start|>" + m["role"] + "\n"
        for item in m["content"]:
            out += "<|vision_start|><|image_pad|><|vision_end|>" if item["type"] == "image" else item["text"]
        out += "<|im_end|>\n"
    return out + "<|im_start|>assistant\n"


def main():
    tok_dir, dataset, out_path = sys.argv[1:4]
    from transformers import Qwen2VLImageProcessor, Qwen2VLProcessor

    tok = hf_common.slow_tokenizer(os.path.join(tok_dir, "tokenizer.json"))
    images = Qwen2VLImageProcessor(min_pixels=65536, max_pixels=16777216, patch_size=16, temporal_patch_size=2,
                                   merge_size=2, image_mean=[0.5, 0.5, 0.5], image_std=[0.5, 0.5, 0.5])
    proc = Qwen2VLProcessor(image_processor=images, tokenizer=tok)
    pad = tok.convert_tokens_to_ids("<|image_pad|>")
    queries = {q["_id"]: q for q in sr.read_jsonl(os.path.join(dataset, "queries.jsonl"))}
    corpus = {c["_id"]: c for c in sr.read_jsonl(os.path.join(dataset, "corpus.jsonl"))}
    pairs = [line.split()[:3:2] for line in open(os.path.join(dataset, "run.trec"), encoding="utf-8") if line.strip()]
    result = {"reference": "Qwen3-VL-Reranker's format_mm_instruction messages, Qwen3-VL chat layout, transformers 4.45.1 "
                           "Qwen2VLProcessor (slow Qwen2Tokenizer; patch 16, 65536..16777216 pixels)",
              "instruction": INSTRUCTION, "ids": {}}
    for qid, did in pairs:
        q, c = queries[qid], corpus[did]
        messages = [{"role": "system", "content": [{"type": "text", "text": SYSTEM}]},
                    {"role": "user", "content": [{"type": "text", "text": "<Instruct>: " + INSTRUCTION}]
                     + content("<Query>:", q.get("text", ""), bool(q.get("image")))
                     + content("\n<Document>:", sr.item_text(c), bool(c.get("image")))}]
        pictures = [hf_common.load_image(os.path.join(dataset, o["image"])) for o in (q, c) if o.get("image")]
        ids = proc(text=[render(messages)], images=pictures or None, return_tensors="pt")["input_ids"][0].tolist()
        result["ids"].setdefault(qid, {})[did] = pir.compress(ids, pad)
    with open(out_path + ".tmp", "w", encoding="utf-8") as f:
        json.dump(result, f, ensure_ascii=False, separators=(",", ":"))
    os.replace(out_path + ".tmp", out_path)


if __name__ == "__main__":
    main()
