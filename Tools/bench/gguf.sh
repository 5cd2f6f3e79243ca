#!/usr/bin/env bash
# swift-glm and llama.cpp on the same GGUF files, interleaved rounds, 2 threads (issue 20):
#   Tools/bench/gguf.sh DIR [ROUNDS] [TYPES]
# TYPES (default "bf16 bf16dot q8_0 q4_0 q4_k_m"): bf16dot is the bf16 safetensors with
# --dtype bfloat16 (vdpbf16ps), against the same llama.cpp BF16 GGUF as bf16.
# DIR holds glm-bench-{bf16,q8_0,q4_0,q4_k_m}.gguf (Tools/bench/convert_to_gguf.py, then
# llama_model_quantize) and DIR/../glm-bench-ckpt the bf16 safetensors they came from.
# Needs .build/release/glm and Tools/bench/work/venv (Tools/bench/run.sh makes it).
set -euo pipefail
cd "$(dirname "$0")/../.."
DIR="$1"; ROUNDS="${2:-2}"; TYPES="${3:-bf16 bf16dot q8_0 q4_0 q4_k_m}"; PY=Tools/bench/work/venv/bin/python
lscpu | grep -E "Model name|Flags" | cut -c1-400
for round in $(seq "$ROUNDS"); do
  for t in $TYPES; do
    gguf="$DIR/glm-bench-${t/bf16dot/bf16}.gguf"; model="$gguf"; dtype=auto
    case "$t" in bf16|bf16dot) model="${GLM_BENCH_CKPT:-/tmp/glm-bench-ckpt}";; esac
    [ "$t" = bf16dot ] && dtype=bfloat16
    echo "round $round $t swift-glm ($model): $(.build/release/glm bench --model-path "$model" --threads 2 --dtype $dtype \
      --prompt-len 512 --gen-len 64 2>/dev/null | grep -E 'prefill|decode|rss' | tr '\n' ' ')"
    echo "round $round $t llama.cpp: $($PY Tools/bench/llama_gguf.py "$gguf" 64 2>/dev/null | tail -1)"
  done
done
