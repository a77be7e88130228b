"""Shared set-up for the reference scripts: Hugging Face transformers 4.45.1 run from its source tree on
Debian 12's python3-torch, or transformers main on Debian 13's torch 2.6 in a chroot for Qwen2.5-VL and
Qwen3-VL (see README.md beside this file for both environments). Nothing here computes a reference value
itself; it only builds transformers' own objects."""
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


CLASSES = {"qwen2_vl": "Qwen2VLForConditionalGeneration", "qwen2_5_vl": "Qwen2_5_VLForConditionalGeneration",
           "qwen3_vl": "Qwen3VLForConditionalGeneration"}


def model_type(model_dir):
    return json.load(open(os.path.join(model_dir, "config.json"), encoding="utf-8"))["model_type"]


def is_main():
    """True on transformers main (5.x), whose forward() computes M-RoPE positions itself."""
    import transformers

    return int(transformers.__version__.split(".")[0]) >= 5


def load_model(model_dir, dtype=torch.float32):
    import transformers

    cls = getattr(transformers, CLASSES[model_type(model_dir)])
    model = cls.from_pretrained(model_dir, torch_dtype=dtype, attn_implementation="eager")
    model.eval()
    return model


def parts(model):
    """(vision tower, decoder layers, final norm) under either module layout (4.45.1: model.visual and
    model.model.layers; main: model.model.visual and model.model.language_model.layers)."""
    inner = model.model
    visual = getattr(model, "visual", None) or inner.visual
    text = getattr(inner, "language_model", inner)
    return visual, text.layers, text.norm


def model_inputs(model, inputs):
    """Keyword arguments for a plain forward as the model is used: 4.45.1 needs the M-RoPE positions
    passed in (see mrope_positions); main computes them, and Qwen3-VL wants mm_token_type_ids (1 on
    image tokens, as its processors make them; Qwen2.5-VL's get_rope_index needs them too)."""
    kwargs = dict(inputs)
    if is_main():
        kwargs["mm_token_type_ids"] = (inputs["input_ids"] == model.config.image_token_id).int()
        return kwargs
    kwargs["position_ids"] = mrope_positions(model, inputs)
    return kwargs


def main_rope_index(model, kwargs):
    """transformers main: the model's own M-RoPE positions and deltas for a prompt."""
    inner = model.model
    args = dict(input_ids=kwargs["input_ids"], image_grid_thw=kwargs.get("image_grid_thw"),
                attention_mask=kwargs.get("attention_mask"))
    if "mm_token_type_ids" in kwargs:
        args["mm_token_type_ids"] = kwargs["mm_token_type_ids"]
    else:
        args["mm_token_type_ids"] = (kwargs["input_ids"] == model.config.image_token_id).int()
    try:
        return inner.get_rope_index(**args)
    except TypeError:  # a signature without mm_token_type_ids
        args.pop("mm_token_type_ids")
        return inner.get_rope_index(**args)


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
