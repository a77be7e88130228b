"""Intermediate tensors of transformers main for a tiny checkpoint of any family (vocabulary below 512,
as `unirank-cli random-checkpoint --preset tiny --family F` writes), on a synthetic prompt: 24 text ids,
one image (the folder's preprocessor_config.json, Qwen2VLImageProcessorPil), 8 more text ids. Writes a
golden case as trace_reference.py does (CASE.json, CASE.safetensors, CASE.pixels.safetensors,
index.json, tolerances.json with the float64 rerun), for `unirank-cli parity`.

  python3 trace_synthetic_main.py MODEL_DIR IMAGE OUT_DIR CASE"""
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hf_common  # noqa: E402
import trace_reference as tr  # noqa: E402


def main():
    model_dir, image, out, case = sys.argv[1:5]
    hf_common.deterministic()
    from transformers.models.qwen2_vl.image_processing_pil_qwen2_vl import Qwen2VLImageProcessorPil

    proc = Qwen2VLImageProcessorPil.from_pretrained(model_dir)
    model = hf_common.load_model(model_dir, torch.float32)
    cfg = model.config
    pix = proc(images=[hf_common.load_image(image)], return_tensors="pt")
    pads = int(pix["image_grid_thw"][0].prod()) // proc.merge_size ** 2
    ids = ([(7 * i + 3) % 480 for i in range(24)] + [cfg.vision_start_token_id] + [cfg.image_token_id] * pads
           + [cfg.vision_end_token_id] + [(11 * i + 5) % 480 for i in range(8)])
    inputs = {"input_ids": torch.tensor([ids]), "attention_mask": torch.ones(1, len(ids), dtype=torch.long),
              "pixel_values": pix["pixel_values"], "image_grid_thw": pix["image_grid_thw"]}
    tr.write_case(model, inputs, out, case, f"synthetic ids around {os.path.basename(image)}", "")


if __name__ == "__main__":
    main()
