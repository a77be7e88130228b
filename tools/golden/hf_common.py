"""Shared set-up for the reference scripts: Hugging Face transformers 4.45.1 run from its source tree on
Debian 12's python3-torch (see README.md beside this file for the environment). Nothing here computes a
reference value itself; it only builds transformers' own objects."""
import json
import os
import sys
import tempfile

import torch

HERE = os.path.dirname(os.path.abspath(__file__))


def patch_added_token():
    """Without the Rust `tokenizers`, transformers 4.45.1 falls back to a field-less dataclass AddedToken
    that is unhashable and equal to every other AddedToken, so the slow tokenizer cannot be built. Give it
    the Rust class's semantics (equality and hash on content, __setstate__ updating its fields)."""
    from transformers import tokenization_utils_base as tub

    cls = tub.AddedToken
    if getattr(cls, "_unirank_patched", False):
        return
    cls.__eq__ = lambda self, other: isinstance(other, cls) and self.content == other.content
    cls.__hash__ = lambda self: hash(self.content)

    def setstate(self, state):
        self.__dict__.update(state)

    cls.__setstate__ = setstate
    cls._unirank_patched = True


def slow_tokenizer(tokenizer_json, tokenizer_config=None):
    """transformers' slow Qwen2Tokenizer built from a tokenizer.json's BPE model (vocab.json and
    merges.txt written to a temporary folder) and the checkpoint's tokenizer_config.json."""
    patch_added_token()
    from transformers import Qwen2Tokenizer

    tj = json.load(open(tokenizer_json, encoding="utf-8"))
    model = tj["model"]
    tmp = tempfile.mkdtemp(prefix="unirank-slowtok-")
    with open(os.path.join(tmp, "vocab.json"), "w", encoding="utf-8") as f:
        json.dump(model["vocab"], f, ensure_ascii=False)
    with open(os.path.join(tmp, "merges.txt"), "w", encoding="utf-8") as f:
        f.write("#version: 0.2\n")
        for m in model["merges"]:
            f.write((m if isinstance(m, str) else " ".join(m)) + "\n")
    config = tokenizer_config or os.path.join(os.path.dirname(tokenizer_json), "tokenizer_config.json")
    cfg = json.load(open(config, encoding="utf-8"))
    cfg.pop("tokenizer_class", None)
    cfg.pop("auto_map", None)
    with open(os.path.join(tmp, "tokenizer_config.json"), "w", encoding="utf-8") as f:
        json.dump(cfg, f)
    return Qwen2Tokenizer.from_pretrained(tmp)


def processor(model_dir, tokenizer=None):
    """Qwen2VLProcessor = the model folder's Qwen2VLImageProcessor + the slow tokenizer."""
    from transformers import Qwen2VLImageProcessor, Qwen2VLProcessor

    tok = tokenizer or slow_tokenizer(os.path.join(model_dir, "tokenizer.json"))
    image_processor = Qwen2VLImageProcessor.from_pretrained(model_dir)
    return Qwen2VLProcessor(image_processor=image_processor, tokenizer=tok)


def deterministic(threads=2):
    torch.manual_seed(0)
    torch.set_num_threads(threads)
    torch.use_deterministic_algorithms(True)


def load_model(model_dir, dtype=torch.float32):
    from transformers import Qwen2VLForConditionalGeneration

    model = Qwen2VLForConditionalGeneration.from_pretrained(model_dir, torch_dtype=dtype,
                                                            attn_implementation="eager")
    model.eval()
    return model


def mrope_positions(model, inputs):
    """The M-RoPE position ids of a prompt, from the model's own get_rope_index. transformers 4.45.1's
    forward() does not compute them when position_ids is None: it falls back to 1-D positions
    (0, 1, 2, ...) for every token, images included; only generate() computes M-RoPE. From 4.47 on,
    forward() computes them itself, as generate() always did and as every checkpoint was trained. Pass
    them explicitly so that a plain forward scores as the model is used."""
    with torch.no_grad():
        pos, _ = model.get_rope_index(inputs["input_ids"], inputs.get("image_grid_thw"), None,
                                      inputs.get("attention_mask"))
    return pos


def load_image(path):
    """An image as UniRank reads it: transparency composited over white (Image.alpha_composite onto an
    opaque white RGBA background), as Qwen's own qwen-vl-utils does before the processor and as
    transformers does for several models. Qwen2VLImageProcessor alone (4.45.1 and main) would only
    drop the alpha channel (PIL convert("RGB")), keeping whatever colour transparent pixels carry."""
    from PIL import Image

    image = Image.open(path)
    if image.mode in ("RGBA", "LA") or (image.mode == "P" and "transparency" in image.info):
        rgba = image.convert("RGBA")
        image = Image.alpha_composite(Image.new("RGBA", rgba.size, (255, 255, 255, 255)), rgba)
    return image.convert("RGB")
