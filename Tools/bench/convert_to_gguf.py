#!/usr/bin/env python3
"""Convert a Hugging Face Glm4MoeForCausalLM checkpoint to GGUF for llama.cpp.

Uses llama.cpp's own converter, `convert_hf_to_gguf.py`, from the llama.cpp tree that
the llama-cpp-python sdist vendors (vendor/llama.cpp), so the GGUF matches exactly what
the llama.cpp build under test expects (architecture `glm4moe`, its key and tensor
names, its tokenizer pre-tokenizer "glm4" recognised from tokenizer.json's hash).
The converter streams tensors lazily; only one MoE layer's experts are held at once.

Needs torch, transformers (==4.57.6, llama.cpp's pin), numpy, sentencepiece and
safetensors in the running interpreter (Tools/bench/run.sh installs them in its venv).

Output is cached: OUTDIR/glm-bench-<type>.gguf plus a .stamp file naming the source
checkpoint (path, index size and mtime, config.json hash) and the converter; a
matching stamp skips the conversion.

    python Tools/bench/convert_to_gguf.py --model-path CKPT --llama-cpp-src DIR \
        --outdir Tools/bench/work/gguf --outtype bf16 [--outtype f16] [--force]

Prints one line per output: `gguf_<type>: PATH`.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent


def find_llama_cpp_src(explicit: str | None) -> Path:
    """Returns a llama.cpp source tree that has convert_hf_to_gguf.py."""
    candidates = []
    if explicit:
        candidates.append(Path(explicit))
    if os.environ.get("LLAMA_CPP_SRC"):
        candidates.append(Path(os.environ["LLAMA_CPP_SRC"]))
    candidates += sorted((HERE / "work" / "src").glob("llama_cpp_python-*/vendor/llama.cpp"), reverse=True)
    for c in candidates:
        if (c / "convert_hf_to_gguf.py").is_file():
            return c.resolve()
    sys.exit("convert_to_gguf: no llama.cpp tree with convert_hf_to_gguf.py found "
             "(pass --llama-cpp-src, or let run.sh unpack the llama-cpp-python sdist)")


def source_stamp(ckpt: Path, src: Path, outtype: str) -> dict:
    index = ckpt / "model.safetensors.index.json"
    files = [index] if index.exists() else sorted(ckpt.glob("*.safetensors"))
    return {
        "checkpoint": str(ckpt.resolve()),
        "weights": [[f.name, f.stat().st_size, int(f.stat().st_mtime)] for f in files],
        "config_sha256": hashlib.sha256((ckpt / "config.json").read_bytes()).hexdigest(),
        "converter": str(src / "convert_hf_to_gguf.py"),
        "converter_sha256": hashlib.sha256((src / "convert_hf_to_gguf.py").read_bytes()).hexdigest(),
        "outtype": outtype,
    }


def describe(path: Path, src: Path) -> str:
    """A one-line summary read back from the GGUF with the vendored gguf-py."""
    sys.path.insert(0, str(src / "gguf-py"))
    try:
        import gguf  # noqa: PLC0415
        r = gguf.GGUFReader(str(path))
        arch = bytes(r.fields["general.architecture"].parts[-1]).decode()
        types: dict[str, int] = {}
        for t in r.tensors:
            types[t.tensor_type.name] = types.get(t.tensor_type.name, 0) + 1
        return f"arch={arch} tensors={len(r.tensors)} types={types} size={path.stat().st_size / 2**30:.2f} GiB"
    except Exception as e:  # a summary only; llama.cpp's loader is the real check
        return f"(could not read back: {e})"
    finally:
        sys.path.pop(0)


def convert(ckpt: Path, src: Path, outdir: Path, outtype: str, force: bool) -> Path:
    out = outdir / f"glm-bench-{outtype}.gguf"
    stamp_path = out.with_suffix(".gguf.stamp")
    stamp = source_stamp(ckpt, src, outtype)
    if not force and out.exists() and stamp_path.exists():
        try:
            if json.loads(stamp_path.read_text()) == stamp:
                print(f"convert_to_gguf: {out.name} is up to date", file=sys.stderr)
                return out
        except json.JSONDecodeError:
            pass
    outdir.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".gguf.partial")
    tmp.unlink(missing_ok=True)
    stamp_path.unlink(missing_ok=True)
    cmd = [sys.executable, str(src / "convert_hf_to_gguf.py"), str(ckpt),
           "--outtype", outtype, "--outfile", str(tmp), "--no-mtp"]
    print("convert_to_gguf: " + " ".join(cmd), file=sys.stderr, flush=True)
    t0 = time.time()
    env = dict(os.environ)
    env.pop("NO_LOCAL_GGUF", None)  # use the gguf-py that matches this llama.cpp
    env.setdefault("HF_HUB_OFFLINE", "1")
    env.setdefault("TRANSFORMERS_OFFLINE", "1")
    proc = subprocess.run(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if proc.returncode != 0:
        tmp.unlink(missing_ok=True)
        sys.stderr.write(proc.stdout[-6000:])
        sys.exit(f"convert_to_gguf: convert_hf_to_gguf.py failed (exit {proc.returncode})")
    os.replace(tmp, out)
    stamp_path.write_text(json.dumps(stamp, indent=1) + "\n")
    print(f"convert_to_gguf: wrote {out} in {time.time() - t0:.0f} s: {describe(out, src)}", file=sys.stderr)
    return out


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--model-path", required=True, type=Path, help="HF checkpoint folder")
    ap.add_argument("--outdir", type=Path, default=HERE / "work" / "gguf")
    ap.add_argument("--outtype", action="append", choices=["bf16", "f16", "f32", "q8_0"],
                    help="GGUF weight type; repeatable (default bf16)")
    ap.add_argument("--llama-cpp-src", help="llama.cpp tree (default: the unpacked llama-cpp-python sdist)")
    ap.add_argument("--force", action="store_true", help="convert even if a cached GGUF matches")
    a = ap.parse_args(argv)
    ckpt = a.model_path.resolve()
    if not (ckpt / "config.json").is_file():
        sys.exit(f"convert_to_gguf: {ckpt}/config.json not found")
    src = find_llama_cpp_src(a.llama_cpp_src)
    for t in a.outtype or ["bf16"]:
        print(f"gguf_{t}: {convert(ckpt, src, a.outdir.resolve(), t, a.force)}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
