"""Starting `glm serve`: the loading state, --model-path resolution and SGLang's command line."""

import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.request
from pathlib import Path

import httpx
import pytest

from conftest import FIXTURE, GLM_BIN, free_port, start_server, stop_server, wait_healthy

SGLANG_FLAGS = ["--tp-size", "4", "--tool-call-parser", "glm45", "--reasoning-parser", "glm45",
                "--speculative-algorithm", "EAGLE", "--speculative-num-steps", "3", "--speculative-eagle-topk", "1",
                "--speculative-num-draft-tokens", "4", "--mem-fraction-static", "0.7", "--disable-shared-experts-fusion",
                "--served-model-name", "glm-4.5-air-fp8"]


def hf_cache_with_fixture(root: Path, repo="zai-org/GLM-4.5-Air-FP8"):
    repo_dir = root / ("models--" + repo.replace("/", "--"))
    snap = repo_dir / "snapshots" / "abc"
    snap.mkdir(parents=True)
    for f in FIXTURE.iterdir():
        shutil.copy(f, snap / f.name)
    (repo_dir / "refs").mkdir()
    (repo_dir / "refs" / "main").write_text("abc")
    return root


def test_health_is_503_while_loading():
    port = free_port()
    proc = start_server(["--model-path", str(FIXTURE), "--port", str(port), "--debug-load-delay", "4"])
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.time() + 30
        r = None
        while time.time() < deadline:
            try:
                r = httpx.get(base + "/health", timeout=2)
                break
            except httpx.TransportError:
                time.sleep(0.05)
        assert r is not None and r.status_code == 503, r
        assert r.json()["error"]["type"] == "unavailable_error"
        chat = httpx.post(base + "/v1/chat/completions", json={"messages": [{"role": "user", "content": "Hi"}]})
        assert chat.status_code == 503
        assert wait_healthy(base, timeout=60, proc=proc)
        assert httpx.get(base + "/health").json() == {"status": "ok"}
    finally:
        stop_server(proc)


def test_repo_id_from_hf_home_and_the_exact_sglang_command_line():
    """SGLang's GLM-4.5-Air-FP8 command line, host and port included, with `glm serve` in place of
    `python3 -m sglang.launch_server` (skipped when port 8000 is taken)."""
    probe = socket.socket()
    try:
        probe.bind(("0.0.0.0", 8000))
    except OSError:
        pytest.skip("port 8000 is in use")
    finally:
        probe.close()
    with tempfile.TemporaryDirectory() as home:
        hf_cache_with_fixture(Path(home) / "hub")
        proc = start_server(["--model-path", "zai-org/GLM-4.5-Air-FP8", *SGLANG_FLAGS, "--host", "0.0.0.0", "--port", "8000"],
                            env={"HF_HOME": home, "HF_HUB_CACHE": ""})
        try:
            assert wait_healthy("http://127.0.0.1:8000", timeout=60, proc=proc)
            models = httpx.get("http://127.0.0.1:8000/v1/models").json()
            assert models["data"][0]["id"] == "glm-4.5-air-fp8"
        finally:
            log = stop_server(proc)
        assert "--tp-size 4: ignored" in log
        assert "--speculative-algorithm: the" in log


def test_missing_repo_says_where_it_looked_and_how_to_download():
    with tempfile.TemporaryDirectory() as cache:
        out = subprocess.run([GLM_BIN, "serve", "--model-path", "zai-org/GLM-4.5-Air", "--port", str(free_port())],
                             env=dict(os.environ, HF_HUB_CACHE=cache, HF_HOME=cache), capture_output=True, text=True,
                             timeout=60)
    assert out.returncode != 0
    text = out.stdout + out.stderr
    assert os.path.join(cache, "models--zai-org--GLM-4.5-Air") in text
    assert "huggingface-cli download zai-org/GLM-4.5-Air" in text


def test_unsupported_parser_is_rejected():
    out = subprocess.run([GLM_BIN, "serve", "--model-path", str(FIXTURE), "--tool-call-parser", "qwen25"],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode != 0
    assert "glm45" in out.stderr
