#!/usr/bin/env python3
"""Quantisation quality, llama-perplexity's --kl-divergence method, swift-glm beside llama.cpp (issue 20).

The embedded demo model is converted by llama.cpp's converter to a BF16 GGUF and quantised by
llama.cpp's own quantiser to each type. Both engines then compute the logits of every position
of a real text (the Aesop fables of Tools/demo-model/data.py, in windows of --window tokens):
swift-glm through `glm logits --all-positions`, llama.cpp through llama-cpp-python
(logits_all). Each engine's quantised logits are compared with its own unquantised ones (ours:
the bf16 safetensors; llama.cpp: the BF16 GGUF), as llama-perplexity does: mean KL divergence,
how often the top-1 token agrees, and the ratio of the perplexities over every next-token
prediction.

    Tools/bench/work/venv/bin/python Tools/bench/quality.py --work /tmp/glm-quality [--window 128]

Needs .build/release/glm and the venv of Tools/bench/run.sh (llama-cpp-python 0.3.36, gguf,
torch, transformers, tokenizers). Prints a Markdown table and writes WORK/quality.json.
"""
from __future__ import annotations

import argparse
import json
import math
import platform
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(REPO / "Tools" / "gguf"))
sys.path.insert(0, str(REPO / "Tools" / "demo-model"))
import make_fixtures as mf  # noqa: E402  (converter, quantiser and KL helpers of the GGUF fixtures)
import data  # noqa: E402

import llama_cpp  # noqa: E402
import numpy as np  # noqa: E402
from tokenizers import Tokenizer  # noqa: E402

DEMO = REPO / "Sources" / "DemoModel" / "glm-4.5-demo"
GLM = REPO / ".build" / "release" / "glm"
TYPES = [("Q8_0", "LLAMA_FTYPE_MOSTLY_Q8_0"), ("Q6_K", "LLAMA_FTYPE_MOSTLY_Q6_K"),
         ("Q4_K_M", "LLAMA_FTYPE_MOSTLY_Q4_K_M"), ("Q4_0", "LLAMA_FTYPE_MOSTLY_Q4_0"),
         ("IQ4_XS", "LLAMA_FTYPE_MOSTLY_IQ4_XS")]


def windows(window: int) -> list[list[int]]:
    tok = Tokenizer.from_file(str(DEMO / "tokenizer.json"))
    text = " ".join(f"{title}. {body}" for title, body in data.FABLES)
    ids = tok.encode(text, add_special_tokens=False).ids
    return [ids[i:i + window] for i in range(0, len(ids) - window + 1, window)]


def ours(model: Path, seqs) -> list[np.ndarray]:
    out = []
    for ids in seqs:
        r = subprocess.run([str(GLM), "logits", "--model-path", str(model), "--threads", "2", "--weight-check", "none",
                            "--all-positions", "--tokens", ",".join(map(str, ids))],
                           capture_output=True, text=True, check=True)
        out.append(np.array(json.loads(r.stdout)["logits"], dtype=np.float64))
    return out


def llama(model: Path, seqs) -> list[np.ndarray]:
    llm = llama_cpp.Llama(model_path=str(model), logits_all=True, n_ctx=len(seqs[0]), n_batch=len(seqs[0]),
                          n_threads=2, seed=0, verbose=False)
    out = []
    for ids in seqs:
        llm.reset()
        llm.eval(ids)
        out.append(np.array(llm.scores[: len(ids), :], dtype=np.float64))
    del llm
    return out


def perplexity(logits, seqs) -> float:
    """exp of the mean negative log-likelihood of each next token."""
    nll, n = 0.0, 0
    for lg, ids in zip(logits, seqs):
        ls = lg - lg.max(-1, keepdims=True)
        ls = ls - np.log(np.exp(ls).sum(-1, keepdims=True))
        nll -= sum(ls[p, ids[p + 1]] for p in range(len(ids) - 1))
        n += len(ids) - 1
    return math.exp(nll / n)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--work", type=Path, required=True)
    ap.add_argument("--window", type=int, default=128)
    ap.add_argument("--llama-cpp-src", type=Path, default=mf.DEFAULT_LLAMA_SRC)
    args = ap.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    seqs = windows(args.window)
    bf16 = args.work / "demo-bf16.gguf"
    if not bf16.exists():
        mf.run_converter(args.llama_cpp_src, ["--outtype", "bf16", "--outfile", bf16, DEMO], force_pre="glm4")
    files = {"BF16": bf16}
    for name, ftype in TYPES:
        files[name] = args.work / f"demo-{name.lower()}.gguf"
        if not files[name].exists():
            mf.quantize_model(bf16, files[name], ftype)

    base = {"swift-glm": ours(DEMO, seqs), "llama.cpp": llama(bf16, seqs)}
    rows = {"tokens": sum(len(s) for s in seqs), "windows": len(seqs), "window": args.window,
            "machine": platform.processor() or platform.machine(), "llama_cpp_python": llama_cpp.__version__,
            "ppl_base": {e: perplexity(b, seqs) for e, b in base.items()}, "types": {}}
    print(f"{rows['windows']} windows of {args.window} tokens; base perplexity "
          + ", ".join(f"{e} {p:.3f}" for e, p in rows["ppl_base"].items()))
    print("| type | engine | mean KLD | same top-1 | PPL(Q)/PPL(base) |")
    print("| --- | --- | ---: | ---: | ---: |")
    for name, path in files.items():
        for engine, run in (("swift-glm", ours), ("llama.cpp", llama)):
            logits = run(path, seqs)
            c = mf.compare(base[engine], logits)
            ratio = perplexity(logits, seqs) / rows["ppl_base"][engine]
            rows["types"].setdefault(name, {})[engine] = {**c, "ppl_ratio": ratio}
            print(f"| {name} | {engine} | {c['kl_mean']:.3g} | {100 * c['top1_agreement']:.2f} % | {ratio:.4f} |")
    (args.work / "quality.json").write_text(json.dumps(rows, indent=1))


if __name__ == "__main__":
    main()
