"""Issue 19's hostile inputs against a live server: each gets its 4xx (or a 500 that hides the
internals), no request holds the engine, and connections that trickle or idle are closed."""

import json
import shutil
import socket
import struct
import threading
import time
from urllib.parse import urlparse

import anthropic
import httpx
import openai
import pytest

from conftest import API_KEY, BASE_URL, FIXTURE, MODEL, free_port, start_server, stop_server, wait_healthy

USER = [{"role": "user", "content": "Hi"}]


def schema_chain(levels=20):
    """Each level `anyOf` two references to the next: 2^levels ways to its leaf."""
    defs = {f"d{i}": {"anyOf": [{"$ref": f"#/$defs/d{i + 1}"}, {"$ref": f"#/$defs/d{i + 1}"}]} for i in range(levels)}
    defs[f"d{levels}"] = {"type": "object", "properties": {"x": {"type": "integer"}}}
    return {"$defs": defs, "$ref": "#/$defs/d0"}


LOOPS = [{"$ref": "#"}, {"anyOf": [{"$ref": "#"}, {"$ref": "#"}]},
         {"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"}]


@pytest.mark.parametrize("schema", LOOPS)
def test_reference_loops_are_400s_on_every_api(client, schema):
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model=MODEL, messages=USER, max_tokens=4, response_format={
            "type": "json_schema", "json_schema": {"name": "x", "schema": schema}})
    assert "refers back to itself" in str(e.value)
    with pytest.raises(openai.BadRequestError):
        client.responses.create(model=MODEL, input="Hi", max_output_tokens=4,
                                text={"format": {"type": "json_schema", "name": "x", "schema": schema}})
    a = anthropic.Anthropic(base_url=BASE_URL, api_key=API_KEY, max_retries=0)
    with pytest.raises(anthropic.BadRequestError):
        a.messages.create(model=MODEL, max_tokens=4, messages=USER,
                          extra_body={"output_config": {"format": {"type": "json_schema", "schema": schema}}})


def timed_chat(http, results):
    start = time.time()
    r = http.post("/v1/chat/completions", json={"model": MODEL, "messages": USER, "max_tokens": 4})
    results.append((r.status_code, time.time() - start))


@pytest.mark.parametrize("schema", [schema_chain(), {"anyOf": [{"const": f"value {i}"} for i in range(30_000)]}],
                         ids=["doubling-references", "wide-anyOf"])
def test_costly_schemas_do_not_hold_others(http, schema):
    """A schema that once cost 40 CPU-seconds: answered (or refused) at once, and a small chat
    sent beside it is not held up."""
    others = []
    side = threading.Thread(target=timed_chat, args=(http, others))
    start = time.time()
    side.start()
    r = http.post("/v1/chat/completions", json={
        "model": MODEL, "messages": USER, "max_tokens": 8, "chat_template_kwargs": {"enable_thinking": False},
        "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": schema}}})
    elapsed = time.time() - start
    side.join()
    assert r.status_code in (200, 400), r.text
    if r.status_code == 400:
        assert "grammar nodes" in r.json()["error"]["message"] or "took longer" in r.json()["error"]["message"], r.text
    assert elapsed < 20, f"the schema request took {elapsed:.1f} s"
    assert others[0][0] == 200 and others[0][1] < 20, others


def test_integer_bound_at_int64_max(http):
    r = http.post("/v1/chat/completions", json={
        "model": MODEL, "messages": USER, "max_tokens": 4, "chat_template_kwargs": {"enable_thinking": False},
        "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {
            "type": "integer", "maximum": 9223372036854775807}}}})
    assert r.status_code == 200, r.text


@pytest.mark.parametrize("stream", [False, True])
def test_logprobs_under_json_object_are_finite(http, stream):
    body = {"model": MODEL, "messages": USER, "max_tokens": 6, "logprobs": True, "top_logprobs": 20, "stream": stream,
            "response_format": {"type": "json_object"}, "chat_template_kwargs": {"enable_thinking": False}}
    r = http.post("/v1/chat/completions", json=body)
    assert r.status_code == 200, r.text
    if stream:
        lines = [l for l in r.text.split("\n") if l.startswith("data: ")]
        assert lines[-1] == "data: [DONE]"
        events = [json.loads(l[6:]) for l in lines[:-1]]
        assert not [e for e in events if "error" in e]
        entries = [x for e in events for c in e["choices"] for x in ((c.get("logprobs") or {}).get("content") or [])]
    else:
        entries = r.json()["choices"][0]["logprobs"]["content"]
    assert entries
    for e in entries:
        assert all(t["logprob"] > -9999 for t in e["top_logprobs"]), "a masked token is listed"


def test_auth_surface(http):
    bare = httpx.Client(base_url=BASE_URL, timeout=30)
    assert bare.get("/health").status_code == 200
    assert bare.get("/metrics").status_code == 200
    for path in ["/health_generate", "/healthz", "/health/x"]:
        assert bare.get(path).status_code == 401, path
    assert http.get("/health_generate").status_code == 200
    # No CORS unless --allowed-origins names the origin.
    r = bare.get("/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in r.headers
    pre = bare.options("/v1/chat/completions", headers={"Origin": "https://evil.example",
                                                        "Access-Control-Request-Method": "POST"})
    assert "access-control-allow-origin" not in pre.headers
    models = http.get("/v1/models").text
    assert str(FIXTURE) not in models and "snapshots" not in models, models


def raw(port, data, wait):
    """Sends `data` on a fresh connection and returns (seconds until the server closed it, what it sent)."""
    s = socket.create_connection(("127.0.0.1", port), timeout=wait)
    start = time.time()
    s.sendall(data)
    got = b""
    try:
        while True:
            chunk = s.recv(4096)
            if not chunk:
                break
            got += chunk
    except socket.timeout:
        return None, got
    finally:
        s.close()
    return time.time() - start, got


@pytest.fixture(scope="module")
def strict_server():
    port = free_port()
    proc = start_server(["--model-path", str(FIXTURE), "--port", str(port), "--threads", "1", "--idle-timeout", "2",
                         "--body-read-timeout", "3", "--max-connections", "6", "--allowed-origins", "https://app.example"])
    try:
        assert wait_healthy(f"http://127.0.0.1:{port}", proc=proc), stop_server(proc)
        yield port
    finally:
        stop_server(proc)


def test_slow_clients_are_cut_off(strict_server):
    port = strict_server
    # A head that never ends (slowloris), then an idle kept-alive connection: closed after --idle-timeout.
    closed, _ = raw(port, b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nX-Slow: ", wait=15)
    assert closed is not None and closed < 8, closed
    closed, got = raw(port, b"GET /health HTTP/1.1\r\nHost: x\r\n\r\n", wait=15)
    assert got.startswith(b"HTTP/1.1 200") and closed is not None and closed < 8, (closed, got[:80])
    # A body that trickles: 408 after --body-read-timeout, however often a byte comes.
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n{")
    start, got = time.time(), b""
    while time.time() - start < 15 and b"\r\n\r\n" not in got:
        try:
            s.sendall(b" ")
            s.settimeout(0.5)
            got += s.recv(4096)
        except socket.timeout:
            continue
        except OSError:
            break
    s.close()
    assert got.startswith(b"HTTP/1.1 408"), got[:200]
    assert time.time() - start < 10


def test_connection_limit(strict_server):
    port = strict_server
    hogs = [socket.create_connection(("127.0.0.1", port), timeout=10) for _ in range(6)]
    for h in hogs:
        h.sendall(b"GET /health HTTP/1.1\r\nHost: x\r\nX-Slow: ")
    time.sleep(0.5)
    start = time.time()
    r = httpx.get(f"http://127.0.0.1:{port}/health", timeout=30)
    waited = time.time() - start
    for h in hogs:
        h.close()
    assert r.status_code == 200
    assert waited > 1, f"a seventh connection was served at once ({waited:.2f} s) with --max-connections 6"


def test_allowed_origins(strict_server):
    base = f"http://127.0.0.1:{strict_server}"
    ok = httpx.options(base + "/v1/chat/completions", headers={"Origin": "https://app.example",
                                                               "Access-Control-Request-Method": "POST"})
    assert ok.headers.get("access-control-allow-origin") == "https://app.example"
    other = httpx.get(base + "/health", headers={"Origin": "https://evil.example"})
    assert "access-control-allow-origin" not in other.headers


def poisoned(tmp_path, tensor="lm_head.weight"):
    """The fixture checkpoint with every value of `tensor` NaN (it is stored as F32)."""
    dst = tmp_path / "nan-model"
    shutil.copytree(FIXTURE, dst)
    path = dst / "model.safetensors"
    data = bytearray(path.read_bytes())
    n = struct.unpack("<Q", data[:8])[0]
    begin, end = json.loads(data[8:8 + n])[tensor]["data_offsets"]
    data[8 + n + begin:8 + n + end] = struct.pack("<f", float("nan")) * ((end - begin) // 4)
    path.write_bytes(data)
    return dst


def test_nan_weights_are_refused_at_load(tmp_path):
    proc = start_server(["--model-path", str(poisoned(tmp_path)), "--port", str(free_port()), "--threads", "1"])
    try:
        proc.wait(timeout=120)
    finally:
        log = stop_server(proc)
    assert proc.returncode != 0
    assert "lm_head.weight" in log and "NaN" in log, log[-2000:]


def test_nan_logits_end_the_request_with_an_error(tmp_path):
    """With the scan skipped, NaN logits end each request with a clear error instead of token 0 forever."""
    port = free_port()
    proc = start_server(["--model-path", str(poisoned(tmp_path)), "--port", str(port), "--threads", "1",
                         "--weight-check", "none"])
    try:
        assert wait_healthy(f"http://127.0.0.1:{port}", proc=proc), stop_server(proc)
        base = f"http://127.0.0.1:{port}"
        for extra in [{}, {"response_format": {"type": "json_object"}}, {"logprobs": True, "top_logprobs": 5}]:
            r = httpx.post(base + "/v1/chat/completions", timeout=60,
                           json={"messages": USER, "max_tokens": 4, **extra})
            assert r.status_code == 500 and r.json()["error"]["code"] == "invalid_logits", r.text
        s = httpx.post(base + "/v1/chat/completions", timeout=60, json={"messages": USER, "max_tokens": 4, "stream": True})
        lines = [l for l in s.text.split("\n") if l.startswith("data: ")]
        assert lines[-1] == "data: [DONE]" and "invalid_logits" in lines[-2], s.text
        assert httpx.get(base + "/health", timeout=10).status_code == 200
    finally:
        stop_server(proc)
