#!/usr/bin/env python3
"""Converts a bf16 Glm4MoeForCausalLM checkpoint to 128×128 block FP8 (E4M3 weights and f32
`weight_scale_inv`, the layout of zai-org/GLM-4.5-Air-FP8), shard by shard, for the FP8
benchmark. Quantised: every 2-D linear weight except the embeddings, lm_head and the routers
(`mlp.gate`), as in the official FP8 releases. Tokenizer and template files are copied.

    python Tools/bench/to_fp8_block.py --model-path /tmp/glm-bench-ckpt --output /tmp/glm-bench-fp8

Needs torch and safetensors (Tools/bench/run.sh's venv has both).
"""
import argparse, json, math, shutil
from pathlib import Path

import torch
from safetensors.torch import load_file, save_file

FP8_MAX = 448.0
BLOCK = 128


def quantise(w: torch.Tensor):
    w = w.float()
    rows, cols = w.shape
    nr, nc = math.ceil(rows / BLOCK), math.ceil(cols / BLOCK)
    padded = torch.zeros(nr * BLOCK, nc * BLOCK)
    padded[:rows, :cols] = w
    amax = padded.abs().view(nr, BLOCK, nc, BLOCK).amax(dim=(1, 3))
    scale = torch.where(amax == 0, torch.ones_like(amax), amax / FP8_MAX)
    full = scale.repeat_interleave(BLOCK, 0)[:rows].repeat_interleave(BLOCK, 1)[:, :cols]
    return (w / full).clamp(-FP8_MAX, FP8_MAX).to(torch.float8_e4m3fn), scale.contiguous()


def quantised(name: str, t: torch.Tensor) -> bool:
    return (t.dim() == 2 and name.endswith(".weight") and "embed_tokens" not in name and "lm_head" not in name
            and not name.endswith("mlp.gate.weight") and "norm" not in name)


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model-path", type=Path, required=True)
    ap.add_argument("--output", type=Path, required=True)
    a = ap.parse_args()
    a.output.mkdir(parents=True, exist_ok=True)
    index = json.loads((a.model_path / "model.safetensors.index.json").read_text())
    weight_map = {}
    for shard in sorted(set(index["weight_map"].values())):
        out = {}
        for name, t in load_file(str(a.model_path / shard)).items():
            if quantised(name, t):
                out[name], out[name + "_scale_inv"] = quantise(t)
            else:
                out[name] = t
        save_file(out, str(a.output / shard), metadata={"format": "pt"})
        weight_map.update({name: shard for name in out})
        print(f"{shard}: {len(out)} tensors", flush=True)
    (a.output / "model.safetensors.index.json").write_text(json.dumps({"metadata": {}, "weight_map": weight_map}, indent=1))
    config = json.loads((a.model_path / "config.json").read_text())
    config["quantization_config"] = {"quant_method": "fp8", "fmt": "e4m3", "activation_scheme": "dynamic",
                                     "weight_block_size": [BLOCK, BLOCK]}
    (a.output / "config.json").write_text(json.dumps(config, indent=2))
    for extra in ["generation_config.json", "tokenizer.json", "tokenizer_config.json", "chat_template.jinja"]:
        if (a.model_path / extra).exists():
            shutil.copy(a.model_path / extra, a.output / extra)


if __name__ == "__main__":
    main()
