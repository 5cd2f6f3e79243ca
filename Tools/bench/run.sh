#!/usr/bin/env bash
# Side-by-side benchmark: swift-glm vs llama.cpp, same checkpoint, same thread count.
#
#   Tools/bench/run.sh [--threads 2] [--model-path /tmp/glm-bench-ckpt] [--gguf-types bf16,f16]
#                      [--glm-native] [--no-hf] [--no-build] [--repeats 2] [--out report.md]
#
# First run: creates Tools/bench/work/venv, builds llama-cpp-python from its PyPI sdist with
# -march=native (CMAKE_ARGS below; ~30 min on 2 cores), installs the CPU torch wheel and
# transformers for llama.cpp's GGUF converter and the optional HF baseline. Later runs reuse
# all of that (and the cached GGUFs in Tools/bench/work/gguf) unless requirements.txt or
# CMAKE_ARGS change. Everything else is Tools/bench/run.py; `run.sh --help` lists its flags.
#
# Environment: GLM_BENCH_CKPT (default checkpoint), CMAKE_ARGS (llama.cpp build flags),
# TORCH_SPEC (pip requirement for torch; default: a local +cpu wheel from PIP_FIND_LINKS if
# there is one, else "torch").
set -euo pipefail

HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
WORK="$HERE/work"
VENV="$WORK/venv"
PY="$VENV/bin/python"
mkdir -p "$WORK"

# ggml with -march=native (AVX-512/VNNI on Ice Lake), llamafile sgemm, OpenMP; no tools/examples.
CMAKE_ARGS="${CMAKE_ARGS:--DGGML_NATIVE=ON -DGGML_LLAMAFILE=ON -DGGML_OPENMP=ON -DGGML_CCACHE=OFF -DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF}"
LLAMA_VERSION="$(sed -n 's/^llama-cpp-python==\([^ ]*\).*/\1/p' "$HERE/requirements.txt")"
[ -n "$LLAMA_VERSION" ] || { echo "run.sh: requirements.txt must pin llama-cpp-python==X" >&2; exit 1; }

STAMP="$WORK/.deps-stamp"
WANT="$(cat "$HERE/requirements.txt"; echo "CMAKE_ARGS=$CMAKE_ARGS"; echo "TORCH_SPEC=${TORCH_SPEC:-}"; grep -m1 '^flags' /proc/cpuinfo | md5sum)"

if [ ! -x "$PY" ]; then
    echo "[bench] creating $VENV" >&2
    python3 -m venv "$VENV"
    "$PY" -m pip install -q --upgrade pip
fi

if [ ! -f "$STAMP" ] || [ "$(cat "$STAMP")" != "$WANT" ]; then
    echo "[bench] installing requirements into $VENV" >&2
    # Build tools first: llama-cpp-python is built without isolation, with these.
    "$PY" -m pip install -q $(grep -E '^(cmake|ninja|scikit-build-core)' "$HERE/requirements.txt")
    "$PY" -m pip install -q $(grep -vE '^(#|$|llama-cpp-python|cmake|ninja|scikit-build-core)' "$HERE/requirements.txt")

    # torch for llama.cpp's convert_hf_to_gguf.py and the HF baseline: prefer a local CPU wheel
    # (PyPI's default Linux torch pulls in the CUDA stack).
    if [ -z "${TORCH_SPEC:-}" ]; then
        for d in ${PIP_FIND_LINKS:-} /opt/wheels; do
            w="$(ls "$d"/torch-*+cpu-cp3*.whl 2>/dev/null | sort -V | tail -1 || true)"
            if [ -n "$w" ]; then TORCH_SPEC="$w"; break; fi
        done
    fi
    "$PY" -m pip install -q "${TORCH_SPEC:-torch}"

    # llama-cpp-python: fetch the sdist (also unpacked: its vendor/llama.cpp has the GGUF converter),
    # then compile it for this CPU. --no-cache-dir: a cached wheel could carry other CMAKE_ARGS.
    mkdir -p "$WORK/dl" "$WORK/src"
    SDIST="$WORK/dl/llama_cpp_python-$LLAMA_VERSION.tar.gz"
    if [ ! -f "$SDIST" ]; then
        "$PY" -m pip download -q --no-deps --no-build-isolation "llama-cpp-python==$LLAMA_VERSION" -d "$WORK/dl"
    fi
    if [ ! -f "$WORK/src/llama_cpp_python-$LLAMA_VERSION/vendor/llama.cpp/convert_hf_to_gguf.py" ]; then
        tar -xzf "$SDIST" -C "$WORK/src"
    fi
    echo "[bench] building llama-cpp-python $LLAMA_VERSION with CMAKE_ARGS=$CMAKE_ARGS (log: $WORK/llama-build.log)" >&2
    if ! CMAKE_ARGS="$CMAKE_ARGS" CMAKE_BUILD_PARALLEL_LEVEL="$(nproc)" \
        "$PY" -m pip install -v --no-cache-dir --no-build-isolation --force-reinstall --no-deps "$SDIST" \
        >"$WORK/llama-build.log" 2>&1; then
        tail -30 "$WORK/llama-build.log" >&2
        echo "run.sh: llama-cpp-python build failed (full log: $WORK/llama-build.log)" >&2
        exit 1
    fi
    echo "$WANT" >"$STAMP"
fi

export LLAMA_CPP_SRC="$WORK/src/llama_cpp_python-$LLAMA_VERSION/vendor/llama.cpp"
exec "$PY" "$HERE/run.py" "$@"
