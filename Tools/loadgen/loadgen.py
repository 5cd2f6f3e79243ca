#!/usr/bin/env python3
"""Load generator for `glm serve`: the three serving benchmarks of issue 5, over HTTP.

Scenarios (all use /v1/completions with token-id prompts, temperature 0 and `ignore_eos`, so
every request generates exactly the tokens asked for and tokenization plays no part):

  throughput    N concurrent streams of distinct random prompts; aggregate generated tokens/s,
                time to first token (TTFT) and inter-token latency (ITL) per concurrency.
  prefix        TTFT of `prefix + suffix` when the prefix is new (cold), then of
                `prefix + another suffix` (warm: the prefix cache should serve the prefix).
  interference  S streams decode; then a long prompt arrives. The streams' usual ITL against
                their worst ITL until the long prompt's first token.

Usage (a server already running):

  python Tools/loadgen/loadgen.py --base-url http://127.0.0.1:30000/v1 throughput --concurrency 1 4 16
  python Tools/loadgen/loadgen.py --base-url ... prefix --prefix-len 2000
  python Tools/loadgen/loadgen.py --base-url ... interference --streams 4 --long-len 4000

or let it start and stop the server (once per --server-args set, e.g. with and without chunked
prefill):

  python Tools/loadgen/loadgen.py --launch --model-path /tmp/glm-bench-ckpt \\
      --server-args "" --server-args "--chunked-prefill-size -1" interference

Results print as text and, with --json FILE, are appended to FILE as JSON lines.
Streaming chunks are timed as they arrive; the server sends one chunk per token, so chunk gaps
are inter-token latencies (a chunk carrying several tokens would only make ITL look worse).
"""
from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import shlex
import signal
import statistics
import subprocess
import sys
import time
import urllib.request

import openai

VOCAB = 150_000  # ordinary token ids, below GLM's special tokens (--vocab changes it)


def random_prompt(rng: random.Random, n: int) -> list[int]:
    return [rng.randrange(VOCAB) for _ in range(n)]


class Trace:
    """Arrival times (seconds since a shared start) of one request's streamed tokens."""

    def __init__(self, sent: float):
        self.sent = sent
        self.tokens: list[float] = []
        self.completion_tokens = 0
        self.cached_tokens = 0

    @property
    def ttft(self) -> float:
        return self.tokens[0] - self.sent

    @property
    def gaps(self) -> list[float]:
        return [b - a for a, b in zip(self.tokens, self.tokens[1:])]


async def stream(client: openai.AsyncOpenAI, model: str, prompt: list[int], max_tokens: int, start: float,
                 on_token=None) -> Trace:
    trace = Trace(time.perf_counter() - start)
    response = await client.completions.create(
        model=model, prompt=prompt, max_tokens=max_tokens, temperature=0, stream=True,
        stream_options={"include_usage": True}, extra_body={"ignore_eos": True})
    async for chunk in response:
        now = time.perf_counter() - start
        if chunk.choices:
            trace.tokens.append(now)
            if on_token:
                on_token(now)
        if chunk.usage:
            trace.completion_tokens = chunk.usage.completion_tokens
            details = getattr(chunk.usage, "prompt_tokens_details", None)
            trace.cached_tokens = (getattr(details, "cached_tokens", 0) or 0) if details else 0
    return trace


def median(xs: list[float]) -> float:
    return statistics.median(xs) if xs else float("nan")


async def warm_up(client, model, rng):
    await stream(client, model, random_prompt(rng, 8), 2, time.perf_counter())


async def throughput(client, model, args) -> list[dict]:
    rng = random.Random(args.seed)
    await warm_up(client, model, rng)
    results = []
    for n in args.concurrency:
        prompts = [random_prompt(rng, args.prompt_len) for _ in range(n)]
        start = time.perf_counter()
        traces = await asyncio.gather(*(stream(client, model, p, args.gen_len, start) for p in prompts))
        seconds = max(t.tokens[-1] for t in traces)
        generated = sum(t.completion_tokens or len(t.tokens) for t in traces)
        # Steady state: once every stream has its first token, all of them are decoding.
        all_started = max(t.tokens[0] for t in traces)
        decoded = sum(1 for t in traces for x in t.tokens if x > all_started)
        gaps = sorted(g for t in traces for g in t.gaps)
        r = dict(scenario="throughput", concurrency=n, prompt_len=args.prompt_len, gen_len=args.gen_len,
                 generated_tokens=generated, seconds=seconds, tokens_per_s=generated / seconds,
                 decode_tokens_per_s=decoded / (seconds - all_started) if seconds > all_started else float("nan"),
                 ttft_mean=statistics.mean(t.ttft for t in traces), itl_median=median(gaps),
                 itl_max=gaps[-1] if gaps else float("nan"))
        print(f"concurrency {n:3d}: {generated} tokens in {seconds:.2f} s = {r['tokens_per_s']:.2f} tok/s, "
              f"decoding {r['decode_tokens_per_s']:.2f} tok/s (ttft mean {r['ttft_mean']:.3f} s, itl median {r['itl_median']:.3f} s, max {r['itl_max']:.3f} s)",
              flush=True)
        results.append(r)
    if len(results) > 1:
        base = results[0]["tokens_per_s"]
        for r in results[1:]:
            print(f"  {r['concurrency']} streams / {results[0]['concurrency']}: {r['tokens_per_s'] / base:.2f}x overall, "
                  f"{r['decode_tokens_per_s'] / results[0]['decode_tokens_per_s']:.2f}x decoding")
    return results


async def prefix(client, model, args) -> list[dict]:
    rng = random.Random(args.seed + 1)
    await warm_up(client, model, rng)
    shared = random_prompt(rng, args.prefix_len)
    cold = await stream(client, model, shared + random_prompt(rng, args.suffix_len), 1, time.perf_counter())
    warm = await stream(client, model, shared + random_prompt(rng, args.suffix_len), 1, time.perf_counter())
    r = dict(scenario="prefix", prefix_len=args.prefix_len, suffix_len=args.suffix_len, cold_ttft=cold.ttft,
             warm_ttft=warm.ttft, warm_cached_tokens=warm.cached_tokens, ratio=warm.ttft / cold.ttft)
    print(f"prefix {args.prefix_len} + suffix {args.suffix_len}: cold ttft {cold.ttft:.3f} s, warm ttft "
          f"{warm.ttft:.3f} s ({warm.cached_tokens} cached) = {100 * r['ratio']:.1f}% of cold", flush=True)
    return [r]


async def interference(client, model, args) -> list[dict]:
    rng = random.Random(args.seed + 2)
    await warm_up(client, model, rng)
    start = time.perf_counter()
    times: list[list[float]] = [[] for _ in range(args.streams)]
    tasks = [asyncio.create_task(stream(client, model, random_prompt(rng, args.stream_prompt_len), args.stream_max_tokens,
                                        start, on_token=times[i].append))
             for i in range(args.streams)]
    while min(len(t) for t in times) < args.settle_tokens:
        await asyncio.sleep(0.005)
    long = await stream(client, model, random_prompt(rng, args.long_len), 1, start)
    arrival, first = long.sent, long.tokens[0]
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    usual, worst = [], 0.0
    for ts in times:
        for a, b in list(zip(ts, ts[1:]))[1:]:  # skip each stream's first gap
            if b <= arrival:
                usual.append(b - a)
            if b > arrival and a <= first:
                worst = max(worst, b - a)
    r = dict(scenario="interference", streams=args.streams, long_len=args.long_len, usual_itl=median(usual),
             worst_itl_before=max(usual, default=float("nan")), worst_itl=worst, ratio=worst / median(usual),
             long_ttft=first - arrival)
    print(f"{args.streams} streams + {args.long_len}-token prompt: usual itl {r['usual_itl']:.3f} s (worst before "
          f"{r['worst_itl_before']:.3f} s), worst during prefill {worst:.3f} s ({r['ratio']:.2f}x), "
          f"long ttft {r['long_ttft']:.2f} s", flush=True)
    return [r]


SCENARIOS = {"throughput": throughput, "prefix": prefix, "interference": interference}


def launch(args, extra: str, port: int) -> subprocess.Popen:
    cmd = [args.glm, "serve", "--model-path", args.model_path, "--port", str(port), *shlex.split(extra)]
    print(f"$ {' '.join(shlex.quote(c) for c in cmd)}", flush=True)
    proc = subprocess.Popen(cmd, start_new_session=True)
    deadline = time.time() + args.launch_timeout
    while time.time() < deadline:
        if proc.poll() is not None:
            sys.exit(f"glm serve exited with {proc.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=2) as response:
                if response.status == 200:
                    return proc
        except OSError:
            pass
        time.sleep(0.5)
    stop(proc)
    sys.exit("glm serve did not become healthy in time")


def stop(proc: subprocess.Popen):
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)


async def run(args, base_url: str, label: str) -> list[dict]:
    client = openai.AsyncOpenAI(base_url=base_url, api_key=args.api_key or "none", timeout=args.request_timeout,
                                max_retries=0)
    model = args.model or (await client.models.list()).data[0].id
    results = []
    for name in args.scenarios:
        for r in await SCENARIOS[name](client, model, args):
            r["server"] = label
            results.append(r)
    await client.close()
    return results


def main():
    global VOCAB
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("scenarios", nargs="+", choices=sorted(SCENARIOS))
    p.add_argument("--base-url", default="http://127.0.0.1:30000/v1")
    p.add_argument("--model", help="model id (default: the first of /v1/models)")
    p.add_argument("--api-key")
    p.add_argument("--launch", action="store_true", help="start `glm serve` (per --server-args) and stop it after")
    p.add_argument("--glm", default=".build/release/glm", help="the glm executable for --launch")
    p.add_argument("--model-path", default=os.environ.get("GLM_BENCH_CKPT", "/tmp/glm-bench-ckpt"))
    p.add_argument("--server-args", action="append", help="extra `glm serve` flags; repeat to compare settings")
    p.add_argument("--port", type=int, default=30123)
    p.add_argument("--launch-timeout", type=float, default=600)
    p.add_argument("--request-timeout", type=float, default=3600)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--vocab", type=int, default=VOCAB, help="prompt token ids are drawn below this")
    p.add_argument("--json", help="append results to this file as JSON lines")
    g = p.add_argument_group("throughput")
    g.add_argument("--concurrency", type=int, nargs="+", default=[1, 4, 16])
    g.add_argument("--prompt-len", type=int, default=64)
    g.add_argument("--gen-len", type=int, default=64)
    g = p.add_argument_group("prefix")
    g.add_argument("--prefix-len", type=int, default=2000)
    g.add_argument("--suffix-len", type=int, default=32)
    g = p.add_argument_group("interference")
    g.add_argument("--streams", type=int, default=4)
    g.add_argument("--long-len", type=int, default=4000)
    g.add_argument("--stream-prompt-len", type=int, default=32)
    g.add_argument("--stream-max-tokens", type=int, default=4096)
    g.add_argument("--settle-tokens", type=int, default=8)
    args = p.parse_args()
    VOCAB = args.vocab

    results = []
    if args.launch:
        for extra in args.server_args or [""]:
            proc = launch(args, extra, args.port)
            try:
                results += asyncio.run(run(args, f"http://127.0.0.1:{args.port}/v1", extra or "(defaults)"))
            finally:
                stop(proc)
    else:
        results = asyncio.run(run(args, args.base_url, args.base_url))
    if args.json:
        with open(args.json, "a") as f:
            for r in results:
                f.write(json.dumps(r) + "\n")


if __name__ == "__main__":
    main()
