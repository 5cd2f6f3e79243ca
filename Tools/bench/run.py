#!/usr/bin/env python3
"""Side-by-side benchmark: swift-glm (`glm bench`) vs llama.cpp (llama-cpp-python) on the
same checkpoint, with the same thread count, plus the machine's memory read bandwidth and
decode's physical limit (weight bytes read per token / bandwidth).

Run it through Tools/bench/run.sh, which creates the venv (Tools/bench/work/venv), builds
llama-cpp-python with -march=native and then calls this script with the venv's python:

    Tools/bench/run.sh [--threads 2] [--model-path /tmp/glm-bench-ckpt] [--gguf-types bf16,f16]

Steps: machine info -> checkpoint (made with Tools/fixtures/make_fixtures.py if missing)
-> bandwidth.c -> `swift build -c release` + `glm bench` (skipped with a message when the
binary is missing) -> GGUF conversion (cached) -> llama.cpp prefill/decode -> optional HF
transformers prefill -> Markdown report (stdout and Tools/bench/work/results/).

Each engine runs in its own process (peak RSS is that process's), one after the other.
"""
from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import os
import platform
import re
import shlex
import shutil
import subprocess
import sys
import time
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
WORK = HERE / "work"
DEFAULT_CKPT = os.environ.get("GLM_BENCH_CKPT", "/tmp/glm-bench-ckpt")

COMMANDS: list[str] = []  # every command this run executed, for the report


def log(msg: str) -> None:
    print(f"[bench] {msg}", file=sys.stderr, flush=True)


def q(cmd) -> str:
    return " ".join(shlex.quote(str(c)) for c in cmd)


def run_cmd(cmd, *, record=True, check=True, capture=True, env=None, cwd=None, timeout=None):
    if record:
        COMMANDS.append(q(cmd) if cwd in (None, REPO) else f"(cd {shlex.quote(str(cwd))} && {q(cmd)})")
    log("$ " + q(cmd))
    p = subprocess.run([str(c) for c in cmd], cwd=cwd or REPO, env=env, text=True, timeout=timeout,
                       stdout=subprocess.PIPE if capture else None,
                       stderr=subprocess.PIPE if capture else None)
    if check and p.returncode != 0:
        if capture:
            sys.stderr.write((p.stdout or "")[-4000:] + (p.stderr or "")[-4000:])
        raise SystemExit(f"[bench] command failed (exit {p.returncode}): {q(cmd)}")
    return p


# ---------------------------------------------------------------------------------------------
# Machine
# ---------------------------------------------------------------------------------------------

def machine_info() -> dict:
    info = {"cpu": platform.processor() or platform.machine(), "logical_cpus": os.cpu_count()}
    try:
        out = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        kv = {k.strip(): v.strip() for k, _, v in (l.partition(":") for l in out.splitlines())}
        info["cpu"] = kv.get("Model name", info["cpu"])
        for key in ("Core(s) per socket", "Socket(s)", "Thread(s) per core", "L3 cache", "NUMA node(s)"):
            if key in kv:
                info[key] = kv[key]
        flags = set(kv.get("Flags", "").split())
        info["isa"] = " ".join(f for f in ("avx2", "fma", "f16c", "avx512f", "avx512bw", "avx512vl", "avx512_vnni",
                                           "avx512_bf16", "amx_bf16", "amx_tile") if f in flags)
    except OSError:
        pass
    try:
        mem = Path("/proc/meminfo").read_text().split("\n")[0].split()[1]
        info["mem_gib"] = round(int(mem) / 2**20, 1)
    except (OSError, IndexError, ValueError):
        pass
    info["kernel"] = platform.release()
    try:
        info["loadavg"] = Path("/proc/loadavg").read_text().split()[0]
    except (OSError, IndexError):
        pass
    return info


def cpu_busy(sample_s: float = 1.0) -> float:
    """Fraction of all CPU time spent busy over `sample_s` (0..1), from /proc/stat."""
    def snap():
        f = [int(x) for x in Path("/proc/stat").read_text().split("\n")[0].split()[1:]]
        idle = f[3] + (f[4] if len(f) > 4 else 0)
        return sum(f[:8]), idle
    try:
        t0, i0 = snap()
        time.sleep(sample_s)
        t1, i1 = snap()
        return max(0.0, 1 - (i1 - i0) / max(1, t1 - t0))
    except (OSError, ValueError, IndexError):
        return 0.0


def settle(a, what: str) -> float:
    """With --wait-idle S: waits (up to S seconds) until the other processes leave the CPUs
    nearly idle (< 10 % busy over 2 s). Returns the busy fraction seen last, for the report."""
    busy = cpu_busy(2.0)
    deadline = time.time() + a.wait_idle
    while busy > 0.10 and time.time() < deadline:
        log(f"{what}: CPUs {100 * busy:.0f} % busy with other work; waiting (--wait-idle)")
        time.sleep(5)
        busy = cpu_busy(2.0)
    if busy > 0.10:
        log(f"warning: {what} starts while the CPUs are {100 * busy:.0f} % busy with other work")
    return busy


# ---------------------------------------------------------------------------------------------
# Checkpoint and bytes read per decoded token
# ---------------------------------------------------------------------------------------------

def ensure_checkpoint(path: Path, make: bool) -> None:
    if (path / "config.json").is_file() and any(path.glob("*.safetensors")):
        return
    if not make:
        raise SystemExit(f"[bench] no checkpoint at {path} (and --no-make-checkpoint)")
    log(f"no checkpoint at {path}: making it with Tools/fixtures/make_fixtures.py (several minutes)")
    run_cmd([sys.executable, REPO / "Tools/fixtures/make_fixtures.py", "--bench-checkpoint", path], capture=False)


DTYPE_BYTES = {"bfloat16": 2, "float16": 2, "float32": 4, "bf16": 2, "f16": 2, "f32": 4}


def weight_bytes_per_token(cfg: dict) -> dict:
    """Bytes of weights one decode step must read, from config.json (checkpoint dtype).

    Counts: one embedding row; per layer the two RMSNorms, q/k/v/o (+ q/k/v biases when
    attention_bias, + q/k norms when use_qk_norm); layers < first_k_dense_replace a dense
    SwiGLU MLP; the others the router (+ e_score_correction_bias, f32), top-k routed experts
    and the shared expert(s); the final norm and the whole lm_head. Also the total stored
    weights, for reference. The KV cache read is listed separately (not weights).
    """
    b = DTYPE_BYTES.get(str(cfg.get("torch_dtype") or cfg.get("dtype") or "bfloat16"), 2)
    H, V, L = cfg["hidden_size"], cfg["vocab_size"], cfg["num_hidden_layers"]
    nh, nkv = cfg["num_attention_heads"], cfg["num_key_value_heads"]
    hd = cfg.get("head_dim") or H // nh
    dense_I, moe_I = cfg["intermediate_size"], cfg["moe_intermediate_size"]
    E, k, S = cfg["n_routed_experts"], cfg["num_experts_per_tok"], cfg.get("n_shared_experts", 0) or 0
    k_dense = min(cfg.get("first_k_dense_replace", 0) or 0, L)
    bias = bool(cfg.get("attention_bias", False))
    qkn = bool(cfg.get("use_qk_norm", False))

    attn = H * nh * hd + 2 * H * nkv * hd + nh * hd * H + (nh * hd + 2 * nkv * hd if bias else 0) + (2 * hd if qkn else 0)
    norms = 2 * H
    dense_mlp = 3 * H * dense_I
    expert = 3 * H * moe_I
    router = E * H
    parts = {
        "embedding row": H * b,
        "attention (q,k,v,o + biases) x layers": attn * b * L,
        "layer norms": norms * b * L,
        f"dense MLP x {k_dense}": dense_mlp * b * k_dense,
        f"router x {L - k_dense}": (router * b + E * 4) * (L - k_dense),
        f"routed experts (top-{k}) x {L - k_dense}": k * expert * b * (L - k_dense),
        f"shared expert x {L - k_dense}": S * expert * b * (L - k_dense),
        "final norm": H * b,
        "lm_head": V * H * b,
    }
    per_token = sum(parts.values())
    stored = (V * H * 2 + L * (attn + norms) + k_dense * dense_mlp
              + (L - k_dense) * (router + (E + S) * expert) + H) * b + (L - k_dense) * E * 4
    return {"bytes_per_token": per_token, "parts": parts, "stored_weight_bytes": stored,
            "kv_bytes_per_ctx_token_f16": 2 * L * nkv * hd * 2, "dtype_bytes": b}


# ---------------------------------------------------------------------------------------------
# Bandwidth
# ---------------------------------------------------------------------------------------------

def parse_kv(text: str) -> dict:
    """`key: value` / `key=value` pairs anywhere in the text (several per line allowed), plus JSON."""
    out = {}
    s = text.strip()
    if s.startswith("{"):
        try:
            return {str(k): v for k, v in json.loads(s).items()}
        except json.JSONDecodeError:
            pass
    for m in re.finditer(r"([A-Za-z][\w./ -]*?)\s*[:=]\s*([-+]?\d+(?:\.\d*)?(?:[eE][-+]?\d+)?)", text):
        out[m.group(1).strip().lower().replace(" ", "_")] = float(m.group(2))
    return out


def measure_bandwidth(mib: int, passes: int) -> dict:
    exe = WORK / "bandwidth"
    src = HERE / "bandwidth.c"
    if not exe.exists() or exe.stat().st_mtime < src.stat().st_mtime:
        run_cmd(["gcc", "-O3", "-march=native", "-fopenmp", "-o", exe, src])
    p = run_cmd([exe, mib, passes])
    kv = parse_kv(p.stdout)
    m = re.search(r"^kernel:\s*(\S+)", p.stdout, re.M)
    kv["kernel"] = m.group(1) if m else "?"
    kv["raw"] = p.stdout
    return kv


# ---------------------------------------------------------------------------------------------
# swift-glm
# ---------------------------------------------------------------------------------------------

def pick(kv: dict, *words, exclude=()) -> float | None:
    for key, val in kv.items():
        if all(w in key for w in words) and not any(x in key for x in exclude) and isinstance(val, (int, float)):
            return float(val)
    return None


def parse_glm_output(text: str) -> dict:
    kv = parse_kv(text)
    res = {
        "prefill_tps": pick(kv, "prefill", "per_s") or pick(kv, "prefill", "tok") or pick(kv, "prefill", "tps"),
        "decode_tps": pick(kv, "decode", "per_s") or pick(kv, "decode", "tok") or pick(kv, "decode", "tps")
        or pick(kv, "generat", "per_s"),
        "peak_rss_bytes": pick(kv, "peak_rss", "byte") or pick(kv, "max_rss", "byte"),
    }
    for phase, key in (("prefill", "prefill_tps"), ("decode", "decode_tps")):
        if res[key] is None:  # free text such as "decode: 128 tokens in 7.1 s (18.0 tok/s)"
            m = re.search(rf"{phase}[^\n]*?([\d.]+)\s*(?:tok(?:en)?s?/s|t/s|tps)\b", text, re.I)
            if m:
                res[key] = float(m.group(1))
    if res["peak_rss_bytes"] is None:
        m = re.search(r"(?:peak|max)[ _]?rss[^\n\d]*([\d.]+)\s*(GiB|MiB|KiB|GB|MB|kB|KB)\b", text, re.I)
        if m:
            unit = {"gib": 2**30, "mib": 2**20, "kib": 2**10, "gb": 1e9, "mb": 1e6, "kb": 1e3}[m.group(2).lower()]
            res["peak_rss_bytes"] = float(m.group(1)) * unit
    if res["peak_rss_bytes"] is None and (v := pick(kv, "rss", "mib")) is not None:
        res["peak_rss_bytes"] = v * 2**20
    if res["peak_rss_bytes"] is None and (v := pick(kv, "rss", "gib")) is not None:
        res["peak_rss_bytes"] = v * 2**30
    return res


def bench_glm(a, variant: str) -> dict | None:
    if variant == "native":
        build_path = REPO / ".build-native"
        extra = ["--build-path", build_path, "-Xswiftc", "-target-cpu", "-Xswiftc", "native", "-Xcc", "-march=native"]
        exe = Path(a.glm_bin_native) if a.glm_bin_native else build_path / "release" / "glm"
    else:
        extra = []
        exe = Path(a.glm_bin) if a.glm_bin else REPO / ".build" / "release" / "glm"
    label = "swift-glm" + (" (-target-cpu native)" if variant == "native" else "")
    if a.build and shutil.which("swift") and (a.glm_bin is None or variant == "native"):
        p = run_cmd(["swift", "build", "-c", "release", "--product", "glm", *extra], check=False, capture=True,
                    timeout=3600)
        if p.returncode != 0:
            log(f"{label}: swift build failed (exit {p.returncode}); using an existing binary if there is one")
            sys.stderr.write((p.stdout or "")[-3000:] + (p.stderr or "")[-3000:])
    if not exe.exists():
        log(f"{label}: {exe} not found: skipping swift-glm (build it with `swift build -c release`)")
        return {"label": label, "skipped": f"{exe.relative_to(REPO) if exe.is_relative_to(REPO) else exe} missing"}
    cmd = [exe, "bench", "--model-path", a.model_path, "--prompt-len", a.prompt_len, "--gen-len", a.gen_len,
           "--threads", a.threads]
    best = None
    busy_seen = 0.0
    for r in range(a.repeats):
        busy_seen = max(busy_seen, settle(a, label))
        p = run_cmd(cmd, check=False, record=(r == 0))
        if p.returncode != 0:
            log(f"{label}: glm bench failed (exit {p.returncode}):\n{(p.stdout or '')[-2000:]}{(p.stderr or '')[-3000:]}")
            return {"label": label, "skipped": f"glm bench exit {p.returncode}"}
        res = parse_glm_output(p.stdout)
        log(f"{label} run {r + 1}: prefill {res['prefill_tps']} tok/s, decode {res['decode_tps']} tok/s")
        if res["prefill_tps"] is None and res["decode_tps"] is None:
            log(f"{label}: could not parse glm bench output:\n{p.stdout[-2000:]}")
            return {"label": label, "skipped": "unparsed output", "raw": p.stdout}
        best = merge_best(best, res)
    best["label"] = label
    best["raw"] = p.stdout
    best["busy_before"] = busy_seen
    return best


def merge_best(best: dict | None, res: dict) -> dict:
    """Best prefill and best decode over repeats (max RSS)."""
    if best is None:
        return dict(res)
    for k in ("prefill_tps", "decode_tps", "prefill_tps_wall", "decode_tps_wall"):
        if res.get(k) is not None and (best.get(k) is None or res[k] > best[k]):
            best[k] = res[k]
    if res.get("peak_rss_bytes") is not None:
        best["peak_rss_bytes"] = max(best.get("peak_rss_bytes") or 0, res["peak_rss_bytes"])
    return best


# ---------------------------------------------------------------------------------------------
# llama.cpp (worker runs in its own process)
# ---------------------------------------------------------------------------------------------

def llama_worker(a) -> None:
    import resource

    import numpy as np
    import llama_cpp
    from llama_cpp import Llama

    n_ctx = a.prompt_len + a.gen_len + 16
    t_load = time.perf_counter()
    llm = Llama(model_path=a.gguf, n_ctx=n_ctx, n_batch=a.llama_batch, n_ubatch=a.llama_batch,
                n_threads=a.threads, n_threads_batch=a.threads, use_mmap=True, flash_attn=a.llama_flash_attn,
                seed=0, verbose=False)
    t_load = time.perf_counter() - t_load
    n_vocab = llm.n_vocab()
    rng = np.random.default_rng(a.seed)
    prompt = [int(x) for x in rng.integers(0, min(n_vocab, 150_000), size=a.prompt_len)]
    ctx = llm.ctx

    def last_logits():
        return np.ctypeslib.as_array(llama_cpp.llama_get_logits_ith(ctx, -1), shape=(n_vocab,))

    def one_run(gen_len: int):
        llm.reset()
        llama_cpp.llama_perf_context_reset(ctx)
        t0 = time.perf_counter()
        llm.eval(prompt)
        tok = int(last_logits().argmax())
        t1 = time.perf_counter()
        for _ in range(gen_len):
            llm.eval([tok])
            tok = int(last_logits().argmax())
        t2 = time.perf_counter()
        perf = llama_cpp.llama_perf_context(ctx)
        return {
            "prefill_tps_wall": a.prompt_len / (t1 - t0),
            "decode_tps_wall": gen_len / (t2 - t1) if gen_len else None,
            "prefill_tps": perf.n_p_eval / (perf.t_p_eval_ms / 1e3) if perf.t_p_eval_ms > 0 else None,
            "decode_tps": perf.n_eval / (perf.t_eval_ms / 1e3) if perf.t_eval_ms > 0 and perf.n_eval else None,
            "n_p_eval": perf.n_p_eval, "n_eval": perf.n_eval,
        }

    one_run(min(8, a.gen_len))  # warm-up: pages in the weights, sizes the compute buffers
    best = None
    runs = []
    for _ in range(a.repeats):
        r = one_run(a.gen_len)
        runs.append(r)
        best = merge_best(best, r)
    best["runs"] = runs
    best["load_s"] = t_load
    best["peak_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    best["llama_cpp_python"] = llama_cpp.__version__
    best["system_info"] = llama_cpp.llama_print_system_info().decode(errors="replace").strip()
    print("RESULT " + json.dumps(best))


def bench_llama(a, gguf: Path, gtype: str) -> dict:
    label = f"llama.cpp {gtype.upper()}"
    cmd = [sys.executable, Path(__file__), "--worker", "llama", "--gguf", gguf, "--threads", a.threads,
           "--prompt-len", a.prompt_len, "--gen-len", a.gen_len, "--repeats", a.repeats, "--seed", a.seed,
           "--llama-batch", a.llama_batch] + (["--llama-flash-attn"] if a.llama_flash_attn else [])
    busy = settle(a, label)
    p = run_cmd(cmd, check=False)
    line = next((l for l in (p.stdout or "").splitlines() if l.startswith("RESULT ")), None)
    if p.returncode != 0 or line is None:
        log(f"{label}: worker failed (exit {p.returncode}):\n{(p.stdout or '')[-2000:]}{(p.stderr or '')[-4000:]}")
        return {"label": label, "skipped": f"llama.cpp worker exit {p.returncode}"}
    res = json.loads(line[len("RESULT "):])
    res["label"] = label
    res["busy_before"] = busy
    log(f"{label}: prefill {res['prefill_tps']:.1f} tok/s (wall {res['prefill_tps_wall']:.1f}), "
        f"decode {res['decode_tps']:.2f} tok/s (wall {res['decode_tps_wall']:.2f})")
    return res


def convert_gguf(a, gtype: str) -> Path | None:
    cmd = [sys.executable, HERE / "convert_to_gguf.py", "--model-path", a.model_path, "--outdir", WORK / "gguf",
           "--outtype", gtype]
    p = run_cmd(cmd, check=False, capture=True, timeout=7200)
    sys.stderr.write(p.stderr or "")
    m = re.search(rf"gguf_{gtype}: (.+)", p.stdout or "")
    if p.returncode != 0 or not m:
        log(f"GGUF {gtype} conversion failed (exit {p.returncode})")
        return None
    return Path(m.group(1).strip())


# ---------------------------------------------------------------------------------------------
# HF transformers (optional; prefill, plus a short decode)
# ---------------------------------------------------------------------------------------------

def hf_worker(a) -> None:
    import resource

    import torch
    import transformers
    from transformers import AutoModelForCausalLM

    torch.set_num_threads(a.threads)
    t_load = time.perf_counter()
    try:
        model = AutoModelForCausalLM.from_pretrained(a.model_path, dtype=torch.bfloat16)
    except TypeError:
        model = AutoModelForCausalLM.from_pretrained(a.model_path, torch_dtype=torch.bfloat16)
    model.eval()
    t_load = time.perf_counter() - t_load
    g = torch.Generator().manual_seed(a.seed)
    vocab = min(model.config.vocab_size, 150_000)
    ids = torch.randint(0, vocab, (1, a.prompt_len), generator=g)
    res = {"load_s": t_load, "torch": torch.__version__, "transformers": transformers.__version__}
    with torch.inference_mode():
        model(ids[:, :32], use_cache=True)  # warm-up
        best = None
        for _ in range(a.repeats):
            t0 = time.perf_counter()
            out = model(ids, use_cache=True, logits_to_keep=1)
            t1 = time.perf_counter()
            best = max(best or 0, a.prompt_len / (t1 - t0))
        res["prefill_tps"] = best
        if a.hf_gen_len > 0:
            past, tok = out.past_key_values, out.logits[:, -1:].argmax(-1)
            t0 = time.perf_counter()
            for _ in range(a.hf_gen_len):
                out = model(tok, past_key_values=past, use_cache=True)
                past, tok = out.past_key_values, out.logits[:, -1:].argmax(-1)
            res["decode_tps"] = a.hf_gen_len / (time.perf_counter() - t0)
    res["peak_rss_bytes"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print("RESULT " + json.dumps(res))


def bench_hf(a) -> dict | None:
    label = "HF transformers bf16"
    try:
        import importlib.util
        if importlib.util.find_spec("torch") is None or importlib.util.find_spec("transformers") is None:
            log("HF transformers: torch/transformers not installed: skipping")
            return None
    except ImportError:
        return None
    cmd = [sys.executable, Path(__file__), "--worker", "hf", "--model-path", a.model_path, "--threads", a.threads,
           "--prompt-len", a.prompt_len, "--hf-gen-len", a.hf_gen_len, "--repeats", 1, "--seed", a.seed]
    busy = settle(a, label)
    p = run_cmd(cmd, check=False, timeout=3600)
    line = next((l for l in (p.stdout or "").splitlines() if l.startswith("RESULT ")), None)
    if p.returncode != 0 or line is None:
        log(f"{label}: worker failed (exit {p.returncode}):\n{(p.stderr or '')[-3000:]}")
        return {"label": label, "skipped": f"worker exit {p.returncode}"}
    res = json.loads(line[len("RESULT "):])
    res["label"] = label
    res["note"] = f"decode over {a.hf_gen_len} tokens" if a.hf_gen_len else ""
    res["busy_before"] = busy
    log(f"{label}: prefill {res['prefill_tps']:.1f} tok/s" +
        (f", decode {res['decode_tps']:.2f} tok/s" if res.get("decode_tps") else ""))
    return res


# ---------------------------------------------------------------------------------------------
# Report
# ---------------------------------------------------------------------------------------------

def fmt(x, spec=".1f", none="—"):
    return none if x is None else format(x, spec)


def report(a, info, bw, bpt, engines, versions) -> str:
    bw_gbps = bw.get("read_bandwidth_gbps")
    ceiling = bw_gbps * 1e9 / bpt["bytes_per_token"] if bw_gbps else None
    ours = next((e for e in engines if e["label"].startswith("swift-glm") and not e.get("skipped")), None)
    lines = []
    add = lines.append
    add(f"# swift-glm vs llama.cpp — {dt.datetime.now().astimezone().strftime('%Y-%m-%d %H:%M %Z')}")
    add("")
    add(f"Checkpoint `{a.model_path}` (bf16, {bpt['stored_weight_bytes'] / 1e9:.2f} GB of weights), "
        f"prompt {a.prompt_len} random tokens (one batch), then {a.gen_len} greedy decode steps, "
        f"**{a.threads} threads** for every engine; best of {a.repeats} run(s) after a warm-up for llama.cpp.")
    add("")
    add("| engine | prefill tok/s | decode tok/s | decode % of limit | peak RSS GiB | ours ÷ this, prefill "
        "| ours ÷ this, decode | other CPU load before |")
    add("| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |")
    for e in engines:
        if e.get("skipped"):
            add(f"| {e['label']} | skipped: {e['skipped']} | | | | | | |")
            continue
        pf, dc = e.get("prefill_tps"), e.get("decode_tps")
        pct = f"{100 * dc / ceiling:.0f} %" if dc and ceiling else "—"
        rss = fmt(e["peak_rss_bytes"] / 2**30, ".2f") if e.get("peak_rss_bytes") else "—"
        rp = f"{ours['prefill_tps'] / pf:.2f}×" if ours and ours is not e and pf and ours.get("prefill_tps") else "—"
        rd = f"{ours['decode_tps'] / dc:.2f}×" if ours and ours is not e and dc and ours.get("decode_tps") else "—"
        label = e["label"] + (f" ({e['note']})" if e.get("note") else "")
        load = f"{100 * e['busy_before']:.0f} %" if e.get("busy_before") is not None else "—"
        add(f"| {label} | {fmt(pf)} | {fmt(dc, '.2f')} | {pct} | {rss} | {rp} | {rd} | {load} |")
    if ceiling:
        add(f"| *physical limit (weights ÷ bandwidth)* | | *{ceiling:.2f}* | *100 %* | | | | "
            f"{100 * bw.get('busy_before', 0):.0f} % |")
    add("")
    llama = [e for e in engines if e["label"].startswith("llama.cpp") and not e.get("skipped")]
    if llama:
        add("llama.cpp rates are its own perf counters (`llama_perf_context`: time inside `llama_decode`); "
            "wall-clock through the Python binding, including greedy argmax: " +
            "; ".join(f"{e['label']}: prefill {e['prefill_tps_wall']:.1f}, decode {e['decode_tps_wall']:.2f} tok/s"
                      for e in llama) + ". Ratios use the perf-counter (faster) numbers.")
        add("")
    if any((e.get("busy_before") or 0) > 0.10 for e in engines) or (bw.get("busy_before") or 0) > 0.10:
        add("**Warning:** other processes were using the CPUs (last column: share of all CPU time busy over the "
            "2 s before a measurement), so these numbers are low and noisy; llama.cpp's spinning OpenMP threads "
            "suffer most from sharing cores. Rerun on an idle machine, or with `--wait-idle 600`.")
        add("")
    if ceiling and any((e.get("decode_tps") or 0) > ceiling for e in engines if not e.get("skipped")):
        add("**Note:** a decode rate above 100 % of the limit means the bandwidth probe was under-measured "
            "(other processes were running during it), not that the engine beat physics.")
        add("")
    if not ours:
        add("swift-glm was not measured in this run (see the skipped row), so there are no ratios.")
        add("")
    add("## Memory bandwidth and decode's physical limit")
    add("")
    if bw_gbps:
        add(f"- Read bandwidth ({bw.get('kernel', '?')} loads, 8 accumulators, {int(bw.get('threads', 0))} threads, "
            f"{bw.get('buffer_bytes', 0) / 2**30:.2g} GiB buffer, best of {int(bw.get('passes', 0))}): "
            f"**{bw_gbps:.1f} GB/s** (median {bw.get('read_bandwidth_gbps_median', 0):.1f}; one thread "
            f"{bw.get('read_bandwidth_1thread_gbps', 0):.1f} GB/s); measured before and after the engines "
            f"({bw.get('first_gbps')} and {bw.get('second_gbps')} GB/s), the higher one is used")
    add(f"- Weight bytes read per decoded token: **{bpt['bytes_per_token'] / 1e9:.3f} GB** "
        f"({bpt['bytes_per_token']:,} B):")
    for k, v in bpt["parts"].items():
        add(f"  - {k}: {v / 1e6:.1f} MB")
    add(f"- KV cache also read per step: {bpt['kv_bytes_per_ctx_token_f16'] / 1024:.0f} KiB per context token in f16 "
        f"(~{bpt['kv_bytes_per_ctx_token_f16'] * (a.prompt_len + a.gen_len / 2) / 1e6:.0f} MB at the mean context "
        f"of this run; not counted in the limit)")
    if ceiling:
        add(f"- Decode physical limit: {bw_gbps:.1f} GB/s ÷ {bpt['bytes_per_token'] / 1e9:.3f} GB = "
            f"**{ceiling:.2f} tokens/s**")
    add("")
    add("## Machine")
    add("")
    add(f"- CPU: {info.get('cpu')}; {info.get('logical_cpus')} logical CPUs "
        f"({info.get('Socket(s)', '?')} socket × {info.get('Core(s) per socket', '?')} cores × "
        f"{info.get('Thread(s) per core', '?')} threads); L3 {info.get('L3 cache', '?')}; {info.get('mem_gib', '?')} GiB RAM; "
        f"Linux {info.get('kernel')}; 1-min load average at start {info.get('loadavg', '?')} "
        "(anything else running skews every number)")
    add(f"- ISA: {info.get('isa', '?')}")
    for k, v in versions.items():
        add(f"- {k}: {v}")
    for e in llama[:1]:
        add(f"- llama.cpp system info: `{e.get('system_info', '')}`")
    add("")
    add("## Commands")
    add("")
    add("```")
    add("Tools/bench/run.sh " + q(sys.argv[1:]))
    for c in COMMANDS:
        add(c)
    add("```")
    return "\n".join(lines) + "\n"


def versions_info() -> dict:
    v = {}
    try:
        import llama_cpp
        v["llama-cpp-python"] = llama_cpp.__version__
    except ImportError:
        pass
    try:
        sw = subprocess.run(["swift", "--version"], capture_output=True, text=True).stdout.strip().splitlines()
        if sw:
            v["swift"] = sw[0]
    except OSError:
        pass
    try:
        gcc = subprocess.run(["gcc", "--version"], capture_output=True, text=True).stdout.splitlines()[0]
        v["gcc"] = gcc
    except (OSError, IndexError):
        pass
    rev = subprocess.run(["git", "-C", str(REPO), "rev-parse", "--short", "HEAD"], capture_output=True, text=True)
    dirty = subprocess.run(["git", "-C", str(REPO), "status", "--porcelain", "--untracked-files=no"],
                           capture_output=True, text=True).stdout.strip()
    v["swift-glm revision"] = (rev.stdout.strip() or "(no commit)") + (" + local changes" if dirty else "")
    return v


# ---------------------------------------------------------------------------------------------

def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--threads", type=int, default=2, help="threads for every engine (default 2)")
    ap.add_argument("--model-path", default=DEFAULT_CKPT, help=f"HF checkpoint folder (default {DEFAULT_CKPT})")
    ap.add_argument("--prompt-len", type=int, default=512)
    ap.add_argument("--gen-len", type=int, default=128)
    ap.add_argument("--repeats", type=int, default=2, help="measured runs per engine (default 2); the best is reported")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--gguf-types", default="bf16", help="comma list of GGUF types for llama.cpp: bf16,f16")
    ap.add_argument("--llama-batch", type=int, default=512, help="llama.cpp n_batch = n_ubatch (default 512)")
    ap.add_argument("--llama-flash-attn", action="store_true", help="enable flash attention in llama.cpp (default off)")
    ap.add_argument("--no-llama", dest="llama", action="store_false")
    ap.add_argument("--no-hf", dest="hf", action="store_false", help="skip the HF transformers prefill")
    ap.add_argument("--hf-gen-len", type=int, default=16, help="HF decode steps (0: prefill only)")
    ap.add_argument("--no-glm", dest="glm", action="store_false")
    ap.add_argument("--no-build", dest="build", action="store_false", help="don't run `swift build -c release` first")
    ap.add_argument("--glm-bin", help="use this glm binary (no build)")
    ap.add_argument("--glm-native", action="store_true",
                    help="also build/bench glm with -Xswiftc -target-cpu -Xswiftc native -Xcc -march=native "
                         "(build path .build-native)")
    ap.add_argument("--glm-bin-native", help=argparse.SUPPRESS)
    ap.add_argument("--no-make-checkpoint", dest="make_checkpoint", action="store_false")
    ap.add_argument("--wait-idle", type=float, default=0, metavar="S",
                    help="before each measurement wait up to S seconds for other processes to leave the CPUs idle")
    ap.add_argument("--bandwidth-mib", type=int, default=2048)
    ap.add_argument("--bandwidth-passes", type=int, default=30)
    ap.add_argument("--out", help="also write the Markdown report here (always: Tools/bench/work/results/)")
    ap.add_argument("--worker", choices=["llama", "hf"], help=argparse.SUPPRESS)
    ap.add_argument("--gguf", help=argparse.SUPPRESS)
    a = ap.parse_args(argv)

    if a.worker == "llama":
        llama_worker(a)
        return 0
    if a.worker == "hf":
        hf_worker(a)
        return 0

    a.model_path = str(Path(a.model_path).expanduser().resolve())
    info = machine_info()
    log(f"machine: {info.get('cpu')}, {info.get('logical_cpus')} CPUs; threads for every engine: {a.threads}")
    if float(info.get("loadavg", 0)) > 0.5:
        log(f"warning: load average {info['loadavg']}: other processes are running; numbers will be low/noisy")
    ensure_checkpoint(Path(a.model_path), a.make_checkpoint)
    cfg = json.loads((Path(a.model_path) / "config.json").read_text())
    bpt = weight_bytes_per_token(cfg)
    log(f"weights read per decoded token: {bpt['bytes_per_token'] / 1e9:.3f} GB")

    busy = settle(a, "bandwidth")
    bw = measure_bandwidth(a.bandwidth_mib, a.bandwidth_passes)
    bw["busy_before"] = busy
    log(f"read bandwidth: {bw.get('read_bandwidth_gbps')} GB/s")

    engines = []
    if a.glm:
        engines.append(bench_glm(a, "default"))
        if a.glm_native:
            engines.append(bench_glm(a, "native"))
    if a.llama:
        for t in [t.strip().lower() for t in a.gguf_types.split(",") if t.strip()]:
            path = convert_gguf(a, t)
            engines.append(bench_llama(a, path, t) if path else {"label": f"llama.cpp {t.upper()}",
                                                                 "skipped": "GGUF conversion failed"})
    if a.hf:
        h = bench_hf(a)
        if h:
            engines.append(h)

    # Measured again at the end: best of both, since anything else running lowers it.
    busy = settle(a, "bandwidth")
    bw2 = measure_bandwidth(a.bandwidth_mib, a.bandwidth_passes)
    bw2["busy_before"] = busy
    log(f"read bandwidth (again, after the engines): {bw2.get('read_bandwidth_gbps')} GB/s")
    bw["first_gbps"], bw["second_gbps"] = bw.get("read_bandwidth_gbps"), bw2.get("read_bandwidth_gbps")
    if (bw2.get("read_bandwidth_gbps") or 0) > (bw.get("read_bandwidth_gbps") or 0):
        bw = {**bw2, "first_gbps": bw["first_gbps"], "second_gbps": bw["second_gbps"]}
    md = report(a, info, bw, bpt, engines, versions_info())
    results = WORK / "results"
    results.mkdir(parents=True, exist_ok=True)
    stamp = dt.datetime.now().strftime("%Y%m%d-%H%M%S")
    (results / f"bench-{stamp}.md").write_text(md)
    (results / f"bench-{stamp}.json").write_text(json.dumps(
        {"args": vars(a), "machine": info, "bandwidth": bw, "bytes_per_token": bpt,
         "engines": engines}, indent=1, default=str))
    if a.out:
        Path(a.out).write_text(md)
    print(md)
    log(f"report: {results / f'bench-{stamp}.md'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
