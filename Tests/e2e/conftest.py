"""Shared fixtures for the end-to-end tests (started by Tests/e2e/run.sh)."""

import json
import os
import socket
import subprocess
import time
import urllib.request
from pathlib import Path

import httpx
import openai
import pytest

BASE_URL = os.environ.get("GLM_E2E_BASE_URL", "http://127.0.0.1:30000")
API_KEY = os.environ.get("GLM_E2E_API_KEY", "")
MODEL = os.environ.get("GLM_E2E_MODEL", "glm-4.5-air-fp8")
FIXTURE = Path(os.environ.get("GLM_E2E_FIXTURE", Path(__file__).resolve().parents[1] / "Fixtures/models/server_tiny"))
GLM_BIN = os.environ.get("GLM_BIN", "glm")
SERVER_PID = int(os.environ.get("GLM_E2E_SERVER_PID", "0"))


@pytest.fixture(scope="session")
def client():
    return openai.OpenAI(base_url=BASE_URL + "/v1", api_key=API_KEY, max_retries=0, timeout=300)


@pytest.fixture(scope="session")
def http():
    with httpx.Client(base_url=BASE_URL, timeout=300, headers={"Authorization": f"Bearer {API_KEY}"}) as c:
        yield c


@pytest.fixture(scope="session")
def golden():
    data = json.loads((FIXTURE / "server_golden.json").read_text())
    return {c["name"]: c for c in data["conversations"]} | {"_tools": data["tools"]}


def request_of(golden, name):
    """The golden conversation's request fields, split into OpenAI arguments and extra_body."""
    req = dict(golden[name]["request"])
    extra = {}
    if "chat_template_kwargs" in req:
        extra["chat_template_kwargs"] = req.pop("chat_template_kwargs")
    return req, extra


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def wait_healthy(url, timeout=60, proc=None):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if proc is not None and proc.poll() is not None:
            return False
        try:
            urllib.request.urlopen(url + "/health", timeout=2)
            return True
        except Exception:
            time.sleep(0.1)
    return False


def start_server(args, env=None):
    """Starts another `glm serve` (stdout/stderr captured)."""
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.Popen([GLM_BIN, "serve", *args], stdout=subprocess.PIPE, stderr=subprocess.STDOUT, env=e, text=True)


def stop_server(proc):
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    return proc.stdout.read() if proc.stdout else ""


def rss_kib(pid):
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    return 0


def metric(http, name):
    text = http.get("/metrics").text
    for line in text.splitlines():
        if line.startswith(name + " ") or line.startswith(name + "{"):
            return float(line.rsplit(" ", 1)[1])
    return None
