#!/usr/bin/env bash
# End-to-end tests: the official `openai` and `anthropic` Python clients against a live `glm serve`.
#
# Builds `glm`, puts the tiny fixture checkpoint (Tests/Fixtures/models/server_tiny) into a
# throwaway Hugging Face cache under the repo id zai-org/GLM-4.5-Air-FP8, starts the server with
# SGLang's GLM-4.5-Air-FP8 command line (host and port aside) on a free loopback port, waits for
# /health, runs pytest, and stops the server. The Python packages (Tests/e2e/requirements.txt)
# go into a venv of their own (.build/e2e-venv, or $GLM_E2E_VENV).
#
#   bash Tests/e2e/run.sh                # everything
#   bash Tests/e2e/run.sh -k tools -x    # extra arguments go to pytest
set -euo pipefail
cd "$(dirname "$0")/../.."
ROOT=$PWD

VENV=${GLM_E2E_VENV:-$ROOT/.build/e2e-venv}
if ! "$VENV/bin/python" -c "import openai, anthropic, pytest, httpx, jsonschema" 2>/dev/null; then
  echo "e2e: creating $VENV"
  python3 -m venv "$VENV"
  "$VENV/bin/python" -m pip install -q --disable-pip-version-check -r Tests/e2e/requirements.txt
fi

echo "e2e: building glm"
# Same build as `swift test` (tests included), so that running this after `swift test` rebuilds nothing.
swift build --build-tests
GLM_BIN="$(swift build --show-bin-path)/glm"

WORK=$(mktemp -d "${TMPDIR:-/tmp}/glm-e2e.XXXXXX")
SERVER_PID=""
cleanup() {
  if [ -n "$SERVER_PID" ] && kill -0 "$SERVER_PID" 2>/dev/null; then
    kill "$SERVER_PID" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$SERVER_PID" 2>/dev/null || break; sleep 0.1; done
    kill -9 "$SERVER_PID" 2>/dev/null || true
  fi
  rm -rf "$WORK"
}
trap cleanup EXIT

# A Hugging Face cache laid out as huggingface_hub writes it.
REPO="$WORK/hub/models--zai-org--GLM-4.5-Air-FP8"
REVISION=0123456789abcdef0123456789abcdef01234567
mkdir -p "$REPO/snapshots/$REVISION" "$REPO/refs"
cp Tests/Fixtures/models/server_tiny/* "$REPO/snapshots/$REVISION/"
printf %s "$REVISION" > "$REPO/refs/main"

PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
API_KEY="sk-e2e-$RANDOM$RANDOM"
LOG="$WORK/server.log"

echo "e2e: starting glm serve on 127.0.0.1:$PORT"
HF_HUB_CACHE="$WORK/hub" "$GLM_BIN" serve \
  --model-path zai-org/GLM-4.5-Air-FP8 --tp-size 4 \
  --tool-call-parser glm45 --reasoning-parser glm45 \
  --speculative-algorithm EAGLE --speculative-num-steps 3 --speculative-eagle-topk 1 --speculative-num-draft-tokens 4 \
  --mem-fraction-static 0.7 --disable-shared-experts-fusion --served-model-name glm-4.5-air-fp8 \
  --host 127.0.0.1 --port "$PORT" \
  --api-key "$API_KEY" --enable-metrics --max-running-requests 4 --max-queued-requests 4 \
  --max-request-body-bytes 1048576 --threads 1 >"$LOG" 2>&1 &
SERVER_PID=$!

for _ in $(seq 600); do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then
    echo "e2e: glm serve exited during startup:"; cat "$LOG"; exit 1
  fi
  if python3 -c "import urllib.request, sys; urllib.request.urlopen('http://127.0.0.1:$PORT/health', timeout=2)" 2>/dev/null; then
    break
  fi
  sleep 0.2
done
python3 -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:$PORT/health', timeout=2)" \
  || { echo "e2e: the server never became healthy:"; cat "$LOG"; exit 1; }
echo "e2e: server ready (pid $SERVER_PID)"

status=0
GLM_E2E_BASE_URL="http://127.0.0.1:$PORT" GLM_E2E_API_KEY="$API_KEY" GLM_E2E_MODEL=glm-4.5-air-fp8 \
GLM_E2E_SERVER_PID="$SERVER_PID" GLM_BIN="$GLM_BIN" GLM_E2E_FIXTURE="$ROOT/Tests/Fixtures/models/server_tiny" \
  "$VENV/bin/python" -m pytest -p no:cacheprovider -q Tests/e2e "$@" || status=$?

if ! kill -0 "$SERVER_PID" 2>/dev/null; then
  echo "e2e: the server died during the tests"; status=1
fi
if [ "$status" -ne 0 ]; then
  echo "e2e: last lines of the server log:"; tail -n 40 "$LOG"
elif grep -q " error " "$LOG"; then
  echo "e2e: the server logged errors:"; grep " error " "$LOG" | head -n 20; status=1
fi
exit "$status"
