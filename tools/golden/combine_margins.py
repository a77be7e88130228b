"""Combines score_reference.py outputs into the reference file the end-to-end test reads:

  python3 combine_margins.py OUT_JSON CHECKPOINT_DIR "COMMAND" NAME=F32_JSON,F64_JSON ...

OUT_JSON: {"checkpoint": {"command", "sha256": {shard: hex}}, "reference",
           "templates": {NAME: {"float32": {qid: {docid: margin}}, "float64": {...}}}}"""
import hashlib
import json
import os
import sys


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def main():
    out, ckpt, command = sys.argv[1:4]
    shards = sorted(f for f in os.listdir(ckpt) if f.endswith(".safetensors"))
    result = {"checkpoint": {"command": command, "sha256": {f: sha256(os.path.join(ckpt, f)) for f in shards}},
              "templates": {}}
    for arg in sys.argv[4:]:
        name, files = arg.split("=", 1)
        f32, f64 = files.split(",")
        a, b = json.load(open(f32)), json.load(open(f64))
        result["reference"] = a["reference"]
        result["templates"][name] = {"float32": a["margins"], "float64": b["margins"]}
    with open(out + ".tmp", "w", encoding="utf-8") as f:
        json.dump(result, f, indent=1)
    os.replace(out + ".tmp", out)


if __name__ == "__main__":
    main()
