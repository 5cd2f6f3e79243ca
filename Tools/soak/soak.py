#!/usr/bin/env python3
"""Load-and-fault soak of `glm serve` (issue 19, item 5).

Starts `glm serve` on a free 127.0.0.1 port, warms it up, takes an RSS baseline, then runs many
client threads for a fixed time, each picking (seeded) a valid request, a hostile request or a
fault (abandoned streams, slowloris, trickled bodies) on every iteration. Afterwards it waits for
the engine to go idle and checks the invariants:

  * the server process is alive;
  * no 5xx, timeout or reset on any valid request (a 503 with Retry-After counts only if the
    queue was full at the time, which this load is sized never to reach);
  * hostile requests get their 4xx (never a 5xx, never a hang past their timeout);
  * every fault ends as expected (the server closes slowloris sockets and trickled bodies);
  * RSS, the lowest of several samples over ~10 s, is within 10 % of the baseline;
  * with nothing running, glm:kv_blocks_free + glm:kv_blocks_cached == glm:kv_blocks_total
    (or glm:token_usage == 0 where the binary lacks the block metrics).

Every loop is bounded in count and time and every socket has a timeout; all traffic goes to
127.0.0.1. Exit status 1 if any invariant fails (the reasons are printed and written to --out).

    python3 Tools/soak/soak.py --glm /path/to/glm --model-path Tests/Fixtures/models/server_tiny \\
        --minutes 5 --clients 16 --seed 1 --out results.json
"""

import argparse
import json
import math
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter, defaultdict
from pathlib import Path

import httpx

HOST = "127.0.0.1"  # the only address this script ever talks to
API_KEY = "sk-soak-" + os.urandom(6).hex()
MODEL = "soak-model"
MAX_RUNNING, MAX_QUEUED = 8, 64
IDLE_TIMEOUT, BODY_READ_TIMEOUT = 5, 5
VALID_TIMEOUT = 120.0  # a valid request that takes longer than this is a hang
HOSTILE_TIMEOUT = 30.0
MAX_ITERATIONS_PER_CLIENT = 100_000
USER = [{"role": "user", "content": "Tell me something about the sea."}]
NO_THINK = {"enable_thinking": False}
TOOLS = [{"type": "function", "function": {"name": "get_weather", "description": "Weather for a city",
                                           "parameters": {"type": "object", "properties": {"city": {"type": "string"}},
                                                          "required": ["city"]}}}]
SMALL_SCHEMA = {"type": "object", "properties": {"answer": {"type": "string", "maxLength": 8},
                                                 "n": {"type": "integer", "minimum": 0, "maximum": 9}},
                "required": ["answer", "n"], "additionalProperties": False}


def schema_chain(levels=20):
    """Each level `anyOf` two references to the next: 2^levels ways to its leaf (issue 19, Seen 3)."""
    defs = {f"d{i}": {"anyOf": [{"$ref": f"#/$defs/d{i + 1}"}, {"$ref": f"#/$defs/d{i + 1}"}]} for i in range(levels)}
    defs[f"d{levels}"] = {"type": "object", "properties": {"x": {"type": "integer"}}}
    return {"$defs": defs, "$ref": "#/$defs/d0"}


LOOPS = [{"$ref": "#"}, {"anyOf": [{"$ref": "#"}, {"$ref": "#"}]},
         {"$defs": {"a": {"$ref": "#/$defs/b"}, "b": {"$ref": "#/$defs/a"}}, "$ref": "#/$defs/a"}]


# ----------------------------------------------------------------------------------------------
# Outcomes


class Outcome:
    """What one request came to: an HTTP status, or 'timeout' / 'reset' / 'closed' / 'abandoned'."""

    __slots__ = ("kind", "result", "latency", "detail", "retry_after", "at", "queue", "phase")

    def __init__(self, kind, result, latency, detail="", retry_after=None):
        self.kind, self.result, self.latency, self.detail, self.retry_after = kind, result, latency, detail, retry_after
        self.at = time.time()
        self.queue = None  # (running, queued) scraped right after a 503
        self.phase = None


def is_reset(e):
    return isinstance(e, (ConnectionResetError, BrokenPipeError, ConnectionAbortedError, httpx.RemoteProtocolError,
                          httpx.ReadError, httpx.WriteError, httpx.ConnectError))


def exc_result(e):
    if isinstance(e, (socket.timeout, TimeoutError, httpx.TimeoutException)):
        return "timeout"
    if is_reset(e):
        return "reset"
    return "error:" + type(e).__name__


# ----------------------------------------------------------------------------------------------
# Raw HTTP on a socket (for what httpx will not send)


def raw_connect(port, timeout):
    s = socket.create_connection((HOST, port), timeout=timeout)
    s.settimeout(timeout)
    return s


def read_status(s, deadline):
    """Reads until a status line and headers arrived, or the peer closed; returns (status|'closed', head)."""
    got = b""
    while b"\r\n\r\n" not in got:
        s.settimeout(max(0.05, deadline - time.time()))
        if time.time() >= deadline:
            raise socket.timeout("deadline")
        chunk = s.recv(65536)
        if not chunk:
            break
        got += chunk
        if len(got) > 1 << 20:
            break
    if not got.startswith(b"HTTP/1."):
        return "closed", got
    try:
        return int(got.split(b" ", 2)[1]), got
    except (IndexError, ValueError):
        return "closed", got


def read_response(s, deadline):
    """One whole response on a kept-alive socket (Content-Length or chunked); returns its status."""
    got = b""
    while b"\r\n\r\n" not in got:
        if time.time() >= deadline:
            raise socket.timeout("deadline")
        s.settimeout(max(0.05, deadline - time.time()))
        chunk = s.recv(65536)
        if not chunk:
            return "closed"
        got += chunk
    head, _, body = got.partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    headers = {k.strip().lower(): v.strip() for k, _, v in (l.partition(b":") for l in lines[1:])}
    if b"content-length" in headers:
        done = lambda: len(body) >= int(headers[b"content-length"])  # noqa: E731
    elif headers.get(b"transfer-encoding", b"").lower() == b"chunked":
        done = lambda: body.endswith(b"0\r\n\r\n")  # noqa: E731
    else:
        done = lambda: True  # noqa: E731
    while not done():
        if time.time() >= deadline:
            raise socket.timeout("deadline")
        s.settimeout(max(0.05, deadline - time.time()))
        chunk = s.recv(65536)
        if not chunk:
            break
        body += chunk
    return int(lines[0].split(b" ", 2)[1])


def wait_closed(s, deadline):
    """Seconds until the peer closed the socket (reading and dropping what it sends), or None at the deadline."""
    start = time.time()
    while time.time() < deadline:
        s.settimeout(max(0.05, min(1.0, deadline - time.time())))
        try:
            if not s.recv(65536):
                return time.time() - start
        except socket.timeout:
            continue
        except OSError:
            return time.time() - start
    return None


def raw_post_head(path, length, key=True, extra=""):
    auth = f"Authorization: Bearer {API_KEY}\r\n" if key else ""
    return (f"POST {path} HTTP/1.1\r\nHost: {HOST}\r\n{auth}Content-Type: application/json\r\n"
            f"Content-Length: {length}\r\n{extra}\r\n").encode()


# ----------------------------------------------------------------------------------------------
# The soak


class Soak:
    def __init__(self, args):
        self.args = args
        self.port = None
        self.proc = None
        self.base = None
        self.outcomes = []
        self.lock = threading.Lock()
        self.stop_at = 0.0
        self.rss_samples = []  # (t, KiB) during the load
        self.metric_samples = []  # (t, running, queued)
        self.kinds = self.define_kinds()
        self.observations = []
        self.phase_name = "warmup"

    # --- server -------------------------------------------------------------------------------

    def start_server(self):
        s = socket.socket()
        s.bind((HOST, 0))
        self.port = s.getsockname()[1]
        s.close()
        self.base = f"http://{HOST}:{self.port}"
        cmd = [self.args.glm, "serve", "--host", HOST, "--port", str(self.port), "--served-model-name", MODEL,
               "--enable-metrics", "--max-running-requests", str(MAX_RUNNING), "--max-queued-requests", str(MAX_QUEUED),
               "--idle-timeout", str(IDLE_TIMEOUT), "--body-read-timeout", str(BODY_READ_TIMEOUT), "--api-key", API_KEY,
               "--tool-call-parser", "glm45", "--reasoning-parser", "glm45"]
        if self.args.model_path:
            cmd += ["--model-path", self.args.model_path]
        if self.args.threads:
            cmd += ["--threads", str(self.args.threads)]
        if self.args.kv_tokens:
            # A bounded KV pool: the prefix cache fills it and then evicts, so RSS settles instead of
            # growing with every new prefix the cache keeps (the pool is only touched as it is used).
            cmd += ["--max-total-tokens", str(self.args.kv_tokens)]
        cmd += self.args.server_arg or []
        self.cmd = cmd
        self.log_path = Path(self.args.log or (str(Path(self.args.out).with_suffix("")) + ".server.log"))
        self.log_file = open(self.log_path, "w")
        self.proc = subprocess.Popen(cmd, stdout=self.log_file, stderr=subprocess.STDOUT)
        deadline = time.time() + self.args.startup_timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise SystemExit(f"glm serve exited during startup (rc {self.proc.returncode}); see {self.log_path}")
            try:
                if httpx.get(self.base + "/health", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise SystemExit(f"glm serve never became healthy; see {self.log_path}")

    def stop_server(self):
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=15)
        self.log_file.close()

    def rss_kib(self):
        try:
            for line in Path(f"/proc/{self.proc.pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    return int(line.split()[1])
        except OSError:
            return None
        return None

    def metrics(self):
        """The /metrics exposition as {name: value} (labelled series summed under name{labels})."""
        text = httpx.get(self.base + "/metrics", timeout=10).text
        out = {}
        for line in text.splitlines():
            if not line or line.startswith("#"):
                continue
            name, _, value = line.rpartition(" ")
            try:
                out[name] = float(value)
            except ValueError:
                pass
        return out

    def settle(self, timeout=60):
        deadline = time.time() + timeout
        last = None
        while time.time() < deadline:
            try:
                m = self.metrics()
                last = (m.get("glm:num_running_reqs"), m.get("glm:num_queue_reqs"))
                if last == (0.0, 0.0):
                    return True, last
            except httpx.HTTPError as e:
                last = repr(e)
            time.sleep(0.5)
        return False, last

    # --- request helpers ------------------------------------------------------------------------

    def auth(self, key=True):
        return {"Authorization": f"Bearer {API_KEY if key else 'sk-wrong'}"}

    def post(self, c, kind, path, body, timeout, check=None, headers=None, content=None):
        start = time.time()
        try:
            r = c.post(path, json=body if content is None else None, content=content, timeout=timeout,
                       headers=headers or self.auth())
        except Exception as e:  # noqa: BLE001
            return Outcome(kind, exc_result(e), time.time() - start, repr(e)[:200])
        latency = time.time() - start
        if r.status_code == 200:
            problem = None
            if check:
                try:
                    problem = check(r.json())
                except Exception as e:  # noqa: BLE001
                    problem = f"{e!r} in {r.text[:200]}"
            return Outcome(kind, "bad-body" if problem else 200, latency, problem or "")
        detail = r.text[:300]
        if r.status_code < 500:
            try:
                err = r.json()["error"]
                assert isinstance(err, dict) and "message" in err
            except Exception:  # noqa: BLE001
                detail = "(error body without error.message) " + detail
        return Outcome(kind, r.status_code, latency, detail, r.headers.get("retry-after"))

    def stream(self, c, kind, path, body, timeout, done_marker, abandon=False):
        """A streamed request read to its end (or, with abandon, closed after the first chunk)."""
        start = time.time()
        try:
            with c.stream("POST", path, json=body, headers=self.auth(), timeout=timeout) as r:
                if r.status_code != 200:
                    r.read()
                    return Outcome(kind, r.status_code, time.time() - start, r.text[:300], r.headers.get("retry-after"))
                text = []
                for chunk in r.iter_text():
                    text.append(chunk)
                    if abandon:
                        return Outcome(kind, "abandoned", time.time() - start)
                    if time.time() - start > timeout:
                        return Outcome(kind, "timeout", time.time() - start, "stream ran past its timeout")
                full = "".join(text)
        except Exception as e:  # noqa: BLE001
            return Outcome(kind, exc_result(e), time.time() - start, repr(e)[:200])
        latency = time.time() - start
        markers = done_marker if isinstance(done_marker, tuple) else (done_marker,)
        if not any(mk in full for mk in markers):
            return Outcome(kind, "bad-body", latency, f"stream without {done_marker!r}: ...{full[-300:]}")
        if '"error"' in full:
            for line in full.splitlines():
                if line.startswith("data: {") and '"error"' in line:
                    try:
                        if "error" in json.loads(line[6:]):
                            return Outcome(kind, "bad-body", latency, "error event: " + line[:300])
                    except ValueError:
                        pass
        return Outcome(kind, 200, latency)

    # --- request kinds -----------------------------------------------------------------------------

    def define_kinds(self):
        """name -> (category, weight, expected results, function(client, rnd) -> Outcome)."""
        m = MODEL
        V, E, H, F = "valid", "edge", "hostile", "fault"

        def chat_check(j):
            assert j["choices"][0]["message"] is not None
            for e in ((j["choices"][0].get("logprobs") or {}).get("content") or []):
                assert math.isfinite(e["logprob"]) and all(math.isfinite(t["logprob"]) and t["logprob"] > -1e30
                                                           for t in e.get("top_logprobs", [])), e

        def json_check(j):
            chat_check(j)
            ch = j["choices"][0]
            if ch["finish_reason"] == "stop":
                json.loads(ch["message"]["content"])

        def tool_check(j):
            ch = j["choices"][0]
            if ch["finish_reason"] != "length" and not ch["message"].get("tool_calls"):
                return "check: tool_choice required without tool_calls: " + json.dumps(ch)[:300]

        def chat(c, rnd):
            body = {"model": m, "messages": USER, "max_tokens": rnd.randint(1, 12), "temperature": rnd.choice([0, 0.7, 1.0])}
            if rnd.random() < 0.4:
                body |= {"logprobs": True, "top_logprobs": rnd.randint(0, 5)}
            return self.post(c, "chat", "/v1/chat/completions", body, VALID_TIMEOUT, chat_check)

        def chat_stream(c, rnd):
            body = {"model": m, "messages": USER, "max_tokens": rnd.randint(1, 12), "stream": True,
                    "stream_options": {"include_usage": True}}
            if rnd.random() < 0.4:
                body |= {"logprobs": True, "top_logprobs": rnd.randint(0, 5)}
            return self.stream(c, "chat-stream", "/v1/chat/completions", body, VALID_TIMEOUT, "data: [DONE]")

        def chat_json_object(c, rnd):
            body = {"model": m, "messages": USER, "max_tokens": 16, "response_format": {"type": "json_object"},
                    "chat_template_kwargs": NO_THINK}
            return self.post(c, "chat-json-object", "/v1/chat/completions", body, VALID_TIMEOUT, json_check)

        def chat_json_schema(c, rnd):
            body = {"model": m, "messages": USER, "max_tokens": 24, "chat_template_kwargs": NO_THINK,
                    "response_format": {"type": "json_schema", "json_schema": {"name": "small", "schema": SMALL_SCHEMA}}}
            if rnd.random() < 0.3:
                body |= {"stream": True}
                return self.stream(c, "chat-json-schema", "/v1/chat/completions", body, VALID_TIMEOUT, "data: [DONE]")
            return self.post(c, "chat-json-schema", "/v1/chat/completions", body, VALID_TIMEOUT, json_check)

        def chat_tools(c, rnd):
            body = {"model": m, "messages": [{"role": "user", "content": "Weather in Paris?"}], "max_tokens": 48,
                    "tools": TOOLS, "tool_choice": "required", "chat_template_kwargs": NO_THINK}
            return self.post(c, "chat-tools-required", "/v1/chat/completions", body, VALID_TIMEOUT, tool_check)

        def completions(c, rnd):
            body = {"model": m, "prompt": rnd.choice(["Once upon", "The sea", "1, 2, 3,"]), "max_tokens": rnd.randint(1, 12)}
            if rnd.random() < 0.3:
                body |= {"logprobs": rnd.randint(0, 5)}
            if rnd.random() < 0.3:
                return self.stream(c, "completions", "/v1/completions", body | {"stream": True}, VALID_TIMEOUT, "data: [DONE]")
            return self.post(c, "completions", "/v1/completions", body, VALID_TIMEOUT, lambda j: j["choices"][0]["text"] and None)

        def messages(c, rnd):
            body = {"model": m, "max_tokens": rnd.randint(1, 12), "messages": USER}
            if rnd.random() < 0.3:
                return self.stream(c, "messages", "/v1/messages", body | {"stream": True}, VALID_TIMEOUT, "message_stop")
            return self.post(c, "messages", "/v1/messages", body, VALID_TIMEOUT,
                             lambda j: None if j["type"] == "message" else "check: not a message")

        def responses(c, rnd):
            body = {"model": m, "input": "Tell me about the sea.", "max_output_tokens": rnd.randint(1, 12)}
            if rnd.random() < 0.3:
                return self.stream(c, "responses", "/v1/responses", body | {"stream": True}, VALID_TIMEOUT,
                                   ("response.completed", "response.incomplete"))
            return self.post(c, "responses", "/v1/responses", body, VALID_TIMEOUT,
                             lambda j: None if j["object"] == "response" else "check: not a response")

        def tokenize(c, rnd):
            body = {"model": m, "messages": USER} if rnd.random() < 0.5 else {"model": m, "prompt": "Hello there"}
            return self.post(c, "tokenize", "/tokenize", body, VALID_TIMEOUT, lambda j: None if j["tokens"] else "check: no tokens")

        # Edge: valid requests that once crashed or 500ed; they must get 200.
        def int64_max(c, rnd):
            body = {"model": m, "messages": USER, "max_tokens": 4, "chat_template_kwargs": NO_THINK,
                    "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {
                        "type": "integer", "maximum": 9223372036854775807}}}}
            return self.post(c, "int64-maximum", "/v1/chat/completions", body, VALID_TIMEOUT, chat_check)

        def json_object_top20(c, rnd):
            body = {"model": m, "messages": USER, "max_tokens": 6, "logprobs": True, "top_logprobs": 20,
                    "response_format": {"type": "json_object"}, "chat_template_kwargs": NO_THINK}
            if rnd.random() < 0.5:
                return self.stream(c, "json-object-top-logprobs-20", "/v1/chat/completions", body | {"stream": True},
                                   VALID_TIMEOUT, "data: [DONE]")
            return self.post(c, "json-object-top-logprobs-20", "/v1/chat/completions", body, VALID_TIMEOUT, chat_check)

        def lone_surrogate(c, rnd):
            content = b'{"model": "' + m.encode() + b'", "max_tokens": 2, "messages": [{"role": "user", "content": "a\\ud800b"}]}'
            return self.post(c, "lone-surrogate", "/v1/chat/completions", None, VALID_TIMEOUT, content=content,
                             headers=self.auth() | {"Content-Type": "application/json"})

        # Hostile: each must get a 4xx.
        def raw_body(kind, path, content, key=True):
            def f(c, rnd):
                o = self.post(c, kind, path, None, HOSTILE_TIMEOUT, content=content,
                              headers=self.auth(key) | {"Content-Type": "application/json"})
                o.detail = f"POST {path} {content[:80]!r}: {o.detail}"
                return o
            return f

        routes = ["/v1/chat/completions", "/v1/completions", "/v1/messages", "/v1/responses", "/tokenize"]

        def random_bytes(c, rnd):
            path = rnd.choice(routes)
            data = bytes(rnd.randrange(256) for _ in range(rnd.randint(1, 400)))
            return raw_body("random-bytes", path, data)(c, rnd)

        def malformed_json(c, rnd):
            data = rnd.choice([b'{"messages": [', b'{"model": "x", "messages": [{"role": "user", "content": "hi"}]',
                               b'{"messages": "\\x"}', b"[1, 2, 3]", b"null", b'{"prompt": }', b"{'a': 1}",
                               b'{"messages": [{"role": "user", "content": "hi"}], "max_tokens": -1}',
                               b'{"messages": [{"role": "user", "content": "hi"}], "n": 99999999999999999999999}'])
            # The last two are well-formed JSON that only the generating routes refuse (/tokenize has no max_tokens or n).
            path = rnd.choice(routes[:2] if b"max_tokens" in data or b'"n"' in data else routes)
            return raw_body("malformed-json", path, data)(c, rnd)

        def deep_json(c, rnd):
            depth = rnd.choice([1000, 100_000])
            deep = "[" * depth + "]" * depth
            data = rnd.choice([deep, '{"messages": ' + deep + "}",
                               '{"model": "x", "messages": [{"role": "user", "content": "hi"}], "response_format": '
                               '{"type": "json_schema", "json_schema": {"name": "x", "schema": '
                               + '{"type": "array", "items": ' * 600 + "{}" + "}" * 600 + "}}}"])
            return raw_body("deep-json", rnd.choice(routes), data.encode())(c, rnd)

        def ref_loop(c, rnd):
            schema = rnd.choice(LOOPS)
            route = rnd.randrange(3)
            if route == 0:
                return self.post(c, "ref-loop-schema", "/v1/chat/completions", {
                    "model": m, "messages": USER, "max_tokens": 4,
                    "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": schema}}}, HOSTILE_TIMEOUT)
            if route == 1:
                return self.post(c, "ref-loop-schema", "/v1/responses", {
                    "model": m, "input": "Hi", "max_output_tokens": 4,
                    "text": {"format": {"type": "json_schema", "name": "x", "schema": schema}}}, HOSTILE_TIMEOUT)
            return self.post(c, "ref-loop-schema", "/v1/messages", {
                "model": m, "max_tokens": 4, "messages": USER,
                "output_config": {"format": {"type": "json_schema", "schema": schema}}}, HOSTILE_TIMEOUT)

        def doubling(c, rnd):
            return self.post(c, "doubling-defs-schema", "/v1/chat/completions", {
                "model": m, "messages": USER, "max_tokens": 8, "chat_template_kwargs": NO_THINK,
                "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": schema_chain()}}},
                HOSTILE_TIMEOUT)

        def nul(c, rnd):
            path = rnd.choice(["/v1/chat/completions", "/tokenize"])
            return raw_body("raw-nul", path, b'{"model": "' + m.encode() + b'", "max_tokens": 1, "messages": [{"role": "user", "content": "a\x00b"}]}')(c, rnd)

        def bom(c, rnd):
            return raw_body("bom", rnd.choice(["/v1/chat/completions", "/tokenize"]),
                            b'\xef\xbb\xbf{"model": "' + m.encode() + b'", "max_tokens": 1, "messages": [{"role": "user", "content": "hi"}]}')(c, rnd)

        def max_tokens_frac(c, rnd):
            return self.post(c, "max-tokens-1.5", "/v1/chat/completions", {"model": m, "messages": USER, "max_tokens": 1.5},
                             HOSTILE_TIMEOUT)

        def wrong_key(c, rnd):
            return self.post(c, "wrong-api-key", rnd.choice(routes), {"model": m, "messages": USER, "max_tokens": 1},
                             HOSTILE_TIMEOUT, headers=self.auth(key=False))

        def health_generate(c, rnd):
            start = time.time()
            try:
                r = c.get("/health_generate", timeout=HOSTILE_TIMEOUT)  # the client has no default key
                return Outcome("health-generate-no-key", r.status_code, time.time() - start, r.text[:200])
            except Exception as e:  # noqa: BLE001
                return Outcome("health-generate-no-key", exc_result(e), time.time() - start, repr(e)[:200])

        def content_length_lie(c, rnd):
            """Content-Length of 50 MB (over the 32 MiB limit) with 100 bytes sent: a 413 at once."""
            start = time.time()
            try:
                s = raw_connect(self.port, HOSTILE_TIMEOUT)
                try:
                    s.sendall(raw_post_head("/v1/chat/completions", 50_000_000) + b"x" * 100)
                    status, _ = read_status(s, start + HOSTILE_TIMEOUT)
                finally:
                    s.close()
                return Outcome("content-length-lie", status, time.time() - start)
            except Exception as e:  # noqa: BLE001
                return Outcome("content-length-lie", exc_result(e), time.time() - start, repr(e)[:200])

        def bad_request_line(c, rnd):
            start = time.time()
            try:
                s = raw_connect(self.port, HOSTILE_TIMEOUT)
                try:
                    junk = bytes(rnd.randrange(33, 127) for _ in range(rnd.randint(1, 200)))
                    s.sendall(junk + b" \x00\xff HTTP/9.9\r\n\r\n")
                    status, _ = read_status(s, start + HOSTILE_TIMEOUT)
                finally:
                    s.close()
                return Outcome("bad-request-line", status, time.time() - start)
            except Exception as e:  # noqa: BLE001
                return Outcome("bad-request-line", exc_result(e), time.time() - start, repr(e)[:200])

        # Faults.
        def abandon_stream(c, rnd):
            body = {"model": m, "messages": [{"role": "user", "content": "Write a long story."}], "max_tokens": 200,
                    "stream": True, "temperature": 1.0}
            return self.stream(c, "abandoned-stream", "/v1/chat/completions", body, VALID_TIMEOUT, "", abandon=True)

        def abandon_plain(c, rnd):
            start = time.time()
            try:
                with httpx.Client(base_url=self.base, timeout=0.2) as short:
                    r = short.post("/v1/completions", headers=self.auth(), json={
                        "model": m, "prompt": "Once", "max_tokens": 200, "ignore_eos": True})
                return Outcome("abandoned-plain", r.status_code, time.time() - start)
            except httpx.TimeoutException:
                return Outcome("abandoned-plain", "abandoned", time.time() - start)
            except Exception as e:  # noqa: BLE001
                return Outcome("abandoned-plain", exc_result(e), time.time() - start, repr(e)[:200])

        def slowloris(c, rnd):
            """A request head that stops half way: the server must close it after --idle-timeout."""
            start = time.time()
            bound = IDLE_TIMEOUT + 10
            try:
                s = raw_connect(self.port, bound)
                try:
                    s.sendall(b"POST /v1/chat/completions HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ")
                    closed = wait_closed(s, start + bound)
                finally:
                    s.close()
                if closed is None:
                    return Outcome("slowloris", "timeout", time.time() - start, f"still open after {bound} s")
                return Outcome("slowloris", "closed", closed)
            except Exception as e:  # noqa: BLE001
                return Outcome("slowloris", exc_result(e), time.time() - start, repr(e)[:200])

        def slowloris_drip(c, rnd):
            """A request head trickled one byte every 2 s (never silent for --idle-timeout), held for at
            most 20 s: reported, since only a head-read deadline can cut it off."""
            start = time.time()
            bound = 20
            try:
                s = raw_connect(self.port, 5)
                try:
                    s.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Drip: ")
                    while time.time() - start < bound:
                        try:
                            s.sendall(b"a")
                        except OSError:
                            return Outcome("slowloris-drip", "closed", time.time() - start)
                        if wait_closed(s, time.time() + 2) is not None:
                            return Outcome("slowloris-drip", "closed", time.time() - start)
                finally:
                    s.close()
                return Outcome("slowloris-drip", "held", time.time() - start, f"still open after {bound} s of dripping")
            except Exception as e:  # noqa: BLE001
                return Outcome("slowloris-drip", exc_result(e), time.time() - start, repr(e)[:200])

        def trickled_body(c, rnd):
            """A body that comes a byte every 0.5 s: 408 after --body-read-timeout, however often a byte comes."""
            start = time.time()
            bound = BODY_READ_TIMEOUT + 10
            try:
                s = raw_connect(self.port, bound)
                try:
                    s.sendall(raw_post_head("/v1/chat/completions", 1000) + b"{")
                    got = b""
                    while time.time() - start < bound and b"\r\n\r\n" not in got:
                        try:
                            s.sendall(b" ")
                        except OSError:
                            break
                        s.settimeout(0.5)
                        try:
                            chunk = s.recv(4096)
                            if not chunk:
                                break
                            got += chunk
                        except socket.timeout:
                            continue
                finally:
                    s.close()
                elapsed = time.time() - start
                if got.startswith(b"HTTP/1."):
                    return Outcome("trickled-body", int(got.split(b" ", 2)[1]), elapsed)
                if elapsed >= bound:
                    return Outcome("trickled-body", "timeout", elapsed, f"no answer after {bound} s")
                return Outcome("trickled-body", "closed", elapsed)
            except Exception as e:  # noqa: BLE001
                return Outcome("trickled-body", exc_result(e), time.time() - start, repr(e)[:200])

        def stalled_body(c, rnd):
            """Content-Length 10000, 50 bytes sent, then silence: 408 or a close within the timeouts."""
            start = time.time()
            bound = max(IDLE_TIMEOUT, BODY_READ_TIMEOUT) + 10
            try:
                s = raw_connect(self.port, bound)
                try:
                    s.sendall(raw_post_head("/v1/completions", 10_000) + b'{"prompt": "' + b"a" * 38)
                    status, _ = read_status(s, start + bound)
                finally:
                    s.close()
                return Outcome("stalled-body", status, time.time() - start)
            except Exception as e:  # noqa: BLE001
                return Outcome("stalled-body", exc_result(e), time.time() - start, repr(e)[:200])

        ok = {200}
        four = set(range(400, 500))
        return {
            "chat": (V, 14, ok, chat),
            "chat-stream": (V, 10, ok, chat_stream),
            "chat-json-object": (V, 4, ok, chat_json_object),
            "chat-json-schema": (V, 4, ok, chat_json_schema),
            "chat-tools-required": (V, 4, ok, chat_tools),
            "completions": (V, 6, ok, completions),
            "messages": (V, 5, ok, messages),
            "responses": (V, 5, ok, responses),
            "tokenize": (V, 4, ok, tokenize),
            "int64-maximum": (E, 1.5, ok, int64_max),
            "json-object-top-logprobs-20": (E, 1.5, ok, json_object_top20),
            "lone-surrogate": (E, 1, ok, lone_surrogate),
            "random-bytes": (H, 3, four, random_bytes),
            "malformed-json": (H, 3, four, malformed_json),
            "deep-json": (H, 2, four, deep_json),
            "ref-loop-schema": (H, 2, {400}, ref_loop),
            "doubling-defs-schema": (H, 1, {200, 400}, doubling),
            "raw-nul": (H, 1, {400}, nul),
            "bom": (H, 1, {400}, bom),
            "max-tokens-1.5": (H, 1, {400}, max_tokens_frac),
            "wrong-api-key": (H, 2, {401}, wrong_key),
            "health-generate-no-key": (H, 1, {401}, health_generate),
            "content-length-lie": (H, 1.5, {413, "closed"}, content_length_lie),
            "bad-request-line": (H, 1, {400, "closed"}, bad_request_line),
            "abandoned-stream": (F, 3, {"abandoned"}, abandon_stream),
            "abandoned-plain": (F, 3, {"abandoned", 200}, abandon_plain),
            "slowloris": (F, 1.5, {"closed"}, slowloris),
            "slowloris-drip": (F, 0.5, {"closed", "held"}, slowloris_drip),
            "trickled-body": (F, 1.5, {408, "closed"}, trickled_body),
            "stalled-body": (F, 1, {408, "closed"}, stalled_body),
        }

    # --- load -------------------------------------------------------------------------------------

    def record(self, o):
        o.phase = self.phase_name
        with self.lock:
            self.outcomes.append(o)

    def client_loop(self, i, only):
        rnd = random.Random(self.args.seed * 1000 + i)
        names = [n for n in self.kinds if not only or n in only]
        weights = [self.kinds[n][1] for n in names]
        # keepalive_expiry below --idle-timeout: httpx never reuses a connection the server is closing.
        limits = httpx.Limits(max_connections=2, max_keepalive_connections=1, keepalive_expiry=IDLE_TIMEOUT - 2)
        with httpx.Client(base_url=self.base, limits=limits) as c:
            for _ in range(MAX_ITERATIONS_PER_CLIENT):
                if time.time() >= self.stop_at:
                    break
                name = rnd.choices(names, weights)[0]
                try:
                    o = self.kinds[name][3](c, rnd)
                except Exception as e:  # noqa: BLE001  (a bug here must not end the soak silently)
                    o = Outcome(name, "error:" + type(e).__name__, 0.0, repr(e)[:200])
                self.record(o)
                if isinstance(o.result, int) and o.result == 503:
                    self.note_503(o)
                time.sleep(rnd.uniform(0, 0.05))

    def keepalive_loop(self, i):
        """An idle kept-alive connection: a request, 2 s idle (still open: a second request on it),
        then silence until the server closes it (about --idle-timeout)."""
        rnd = random.Random(self.args.seed * 7777 + i)
        for _ in range(10_000):
            if time.time() >= self.stop_at:
                break
            start = time.time()
            try:
                s = raw_connect(self.port, 20)
                try:
                    req = f"GET /v1/models HTTP/1.1\r\nHost: {HOST}\r\nAuthorization: Bearer {API_KEY}\r\n\r\n".encode()
                    s.sendall(req)
                    status1 = read_response(s, time.time() + 20)
                    time.sleep(rnd.uniform(0.5, 2.0))
                    s.sendall(req)
                    status2 = read_response(s, time.time() + 20)
                    closed = wait_closed(s, time.time() + IDLE_TIMEOUT + 10)
                finally:
                    s.close()
                if status1 == 200 and status2 == 200 and closed is not None:
                    self.record(Outcome("idle-keepalive", "closed", closed))
                else:
                    self.record(Outcome("idle-keepalive", "bad", time.time() - start, f"{status1} {status2} closed={closed}"))
            except Exception as e:  # noqa: BLE001
                self.record(Outcome("idle-keepalive", exc_result(e), time.time() - start, repr(e)[:200]))

    def note_503(self, o):
        try:
            m = self.metrics()
            o.queue = (m.get("glm:num_running_reqs"), m.get("glm:num_queue_reqs"))
            o.detail += f" | right after the 503: running={o.queue[0]} queued={o.queue[1]}"
        except httpx.HTTPError:
            pass

    def monitor_loop(self):
        for _ in range(100_000):
            if time.time() >= self.stop_at:
                break
            r = self.rss_kib()
            if r is not None:
                self.rss_samples.append((time.time(), r, self.phase_name))
            try:
                m = self.metrics()
                self.metric_samples.append((time.time(), m.get("glm:num_running_reqs"), m.get("glm:num_queue_reqs"),
                                            m.get("glm:kv_blocks_cached"), self.phase_name))
            except httpx.HTTPError:
                pass
            time.sleep(1.0)

    def warm_up(self):
        """A few dozen valid requests of every valid kind, one after another."""
        rnd = random.Random(self.args.seed)
        valid = [n for n, k in self.kinds.items() if k[0] in ("valid", "edge")]
        bad = []
        with httpx.Client(base_url=self.base) as c:
            for i in range(self.args.warmup):
                name = valid[i % len(valid)]
                o = self.kinds[name][3](c, rnd)
                if o.result != 200:
                    bad.append(f"{name}: {o.result} {o.detail}")
        return bad

    def phase(self, seconds, only, name):
        """All client, keep-alive and monitor threads for `seconds`; bounded joins."""
        start = time.time()
        self.stop_at = start + seconds
        self.phase_name = name
        client_kinds = [n for n in self.kinds if not only or n in only]
        threads = []
        if client_kinds:
            threads += [threading.Thread(target=self.client_loop, args=(i, only), daemon=True) for i in range(self.args.clients)]
        if not only or "idle-keepalive" in only:
            threads += [threading.Thread(target=self.keepalive_loop, args=(i,), daemon=True) for i in range(self.args.keepalive)]
        threads.append(threading.Thread(target=self.monitor_loop, daemon=True))
        before = len(self.outcomes)
        for t in threads:
            t.start()
        # Every kind ends within its own timeout (at most VALID_TIMEOUT), so this join is bounded.
        join_deadline = self.stop_at + VALID_TIMEOUT + 30
        for t in threads:
            t.join(timeout=max(0.1, join_deadline - time.time()))
        return {"seconds": round(time.time() - start, 1), "requests": len(self.outcomes) - before,
                "stuck_threads": sum(t.is_alive() for t in threads)}

    # --- run --------------------------------------------------------------------------------------

    def run(self):
        a = self.args
        only = set(a.only.split(",")) if a.only else set()
        unknown = only - set(self.kinds) - {"idle-keepalive"}
        if unknown:
            raise SystemExit(f"unknown kinds: {sorted(unknown)}; known: {sorted(self.kinds)}")
        started = time.time()
        self.start_server()
        summary = {"date": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "cpu": cpu_model(), "command": self.cmd,
                   "args": vars(a), "port": self.port}
        try:
            summary["warmup_failures"] = self.warm_up()
            self.settle()
            time.sleep(2)
            summary["rss_kib_after_sequential_warmup"] = self.rss_kib()
            if a.warmup_seconds > 0:
                # The same mix at full concurrency for a short while: the allocator's per-thread
                # arenas, the event loops' buffers and the engine's pools reach their working size
                # before the baseline, so that what the soak measures afterwards is growth.
                print(f"soak: server pid {self.proc.pid} on {self.base}; concurrent warm-up for {a.warmup_seconds} s", flush=True)
                summary["warmup_phase"] = self.phase(a.warmup_seconds, only, "warmup")
                self.settle()
                time.sleep(2)
            baseline_samples = []
            for _ in range(5):
                baseline_samples.append(self.rss_kib())
                time.sleep(0.5)
            baseline = min(baseline_samples)
            m0 = self.metrics()
            print(f"soak: RSS baseline {baseline} KiB (samples {baseline_samples}); "
                  f"running {a.clients} clients{' (' + a.only + ')' if only else ''} for {a.minutes} min", flush=True)
            load = self.phase(a.minutes * 60, only, "load")
            stuck = load["stuck_threads"]
            load_end = time.time()
            alive_after_load = self.proc.poll() is None
            summary |= {"load_seconds": load["seconds"], "stuck_client_threads": stuck}
            settled, last = self.settle(60) if alive_after_load else (False, "server dead")
            summary["settled"] = {"ok": settled, "last": last, "seconds_after_load": round(time.time() - load_end, 1)}
            end_samples = []
            for _ in range(6):
                if self.proc.poll() is None:
                    end_samples.append(self.rss_kib())
                time.sleep(2)
            m1 = self.metrics() if self.proc.poll() is None else {}
            summary |= self.evaluate(baseline, baseline_samples, end_samples, m0, m1, settled, stuck, only)
        finally:
            alive = self.proc.poll() is None
            rc = self.proc.returncode
            self.stop_server()
        summary["server_alive_at_end"] = alive
        if not alive:
            summary.setdefault("failures", []).insert(0, f"the server died (rc {rc}); see {self.log_path}")
            summary.setdefault("invariants", {})["server alive"] = False
        log = self.log_path.read_text(errors="replace").splitlines()
        summary["server_log"] = {"path": str(self.log_path), "lines": len(log),
                                 "error_lines": [l for l in log if " error " in l or "critical" in l or "Fatal" in l][:20]}
        summary["total_seconds"] = round(time.time() - started, 1)
        return summary

    def evaluate(self, baseline, baseline_samples, end_samples, m0, m1, settled, stuck, only):
        by_kind = defaultdict(Counter)
        failures = []
        unexpected = defaultdict(list)
        for o in self.outcomes:
            by_kind[o.kind][str(o.result)] += 1
            if o.kind == "idle-keepalive":
                expected, cat = {"closed"}, "fault"
            else:
                cat, _, expected, _ = self.kinds[o.kind]
            if o.result not in expected:
                unexpected[o.kind].append(f"{o.result} after {o.latency:.2f}s: {o.detail[:240]}")
        valid_lat = sorted(o.latency for o in self.outcomes if o.kind in self.kinds and self.kinds[o.kind][0] in ("valid", "edge")
                           and o.result == 200)

        def pct(xs, p):
            return round(xs[min(len(xs) - 1, int(p * len(xs)))], 3) if xs else None

        per_kind_lat = {}
        for k in self.kinds:
            xs = sorted(o.latency for o in self.outcomes if o.kind == k and o.result == 200)
            if xs:
                per_kind_lat[k] = {"p50": pct(xs, 0.5), "p99": pct(xs, 0.99), "max": round(xs[-1], 3)}

        valid_bad = [o for o in self.outcomes if o.kind in self.kinds and self.kinds[o.kind][0] in ("valid", "edge")
                     and o.result != 200]
        valid_5xx = [o for o in valid_bad if isinstance(o.result, int) and o.result >= 500]
        legit_503 = [o for o in valid_5xx if o.result == 503 and o.retry_after and o.queue
                     and (o.queue[1] or 0) >= MAX_QUEUED]
        valid_timeouts = [o for o in valid_bad if o.result == "timeout"]
        hostile_bad = [o for o in self.outcomes if o.kind in self.kinds and self.kinds[o.kind][0] == "hostile"
                       and (o.result == "timeout" or (isinstance(o.result, int) and o.result >= 500))]
        resets = Counter(o.kind for o in self.outcomes if o.result == "reset")

        rss_end = min((r for r in end_samples if r), default=None)
        rss_peak = max([r for _, r, ph in self.rss_samples if ph == "load"] + [r for r in end_samples if r], default=None)
        load_rss = [(t, r) for t, r, ph in self.rss_samples if ph == "load"]
        t0 = load_rss[0][0] if load_rss else 0
        # One sample every ~15 s of the load, to tell a plateau from steady growth.
        timeline = [(round(t - t0), r) for i, (t, r) in enumerate(load_rss) if i % 15 == 0]
        kv = {k: m1.get(f"glm:kv_blocks_{k}") for k in ("total", "free", "cached")}
        kv["token_usage"] = m1.get("glm:token_usage")
        kv0 = {k: m0.get(f"glm:kv_blocks_{k}") for k in ("total", "free", "cached")}
        # The KV pool is allocated but not committed: a block's pages join the RSS when it is first
        # written, and blocks the prefix cache keeps stay resident. The RSS growth per block the
        # cache gained says how much of the growth that explains.
        rss_vs_cache = None
        if rss_end and baseline and kv["cached"] is not None and kv0["cached"] is not None:
            gained = kv["cached"] - kv0["cached"]
            rss_vs_cache = {"rss_growth_kib": rss_end - baseline, "cached_blocks_gained": gained,
                            "rss_kib_per_cached_block": round((rss_end - baseline) / gained, 2) if gained > 0 else None}
        # Counted by the server itself, from the baseline on (a /health 503 while loading comes before).
        server_5xx = {k: v - m0.get(k, 0) for k, v in m1.items()
                      if k.startswith("glm:http_requests_total") and 'status="5' in k and v - m0.get(k, 0) > 0}
        server_by_status = {k: v for k, v in m1.items() if k.startswith("glm:http_requests_total")}

        inv = {}
        inv["server alive"] = self.proc.poll() is None
        if not inv["server alive"]:
            pass  # reported by run()
        inv["settled (running = queued = 0 within 60 s)"] = settled
        if not settled:
            failures.append("running/queued requests did not drop to 0 within 60 s of the load")
        inv["no stuck client thread"] = stuck == 0
        if stuck:
            failures.append(f"{stuck} client threads still running after their bound")
        n_bad_valid = len(valid_bad) - len(legit_503)
        inv["valid requests: all 2xx (no 5xx, timeout or reset)"] = n_bad_valid == 0
        if n_bad_valid:
            c = Counter(str(o.result) for o in valid_bad if o not in legit_503)
            failures.append(f"{n_bad_valid} valid requests were not answered 200: {dict(c)} "
                            f"(5xx: {len(valid_5xx) - len(legit_503)}, timeouts: {len(valid_timeouts)})")
        inv["hostile requests: no 5xx, no hang"] = not hostile_bad
        if hostile_bad:
            failures.append(f"{len(hostile_bad)} hostile requests got a 5xx or hung: "
                            f"{dict(Counter(o.kind + ':' + str(o.result) for o in hostile_bad))}")
        strict_unexpected = {k: v for k, v in unexpected.items() if not (k in self.kinds and self.kinds[k][0] in ("valid", "edge"))}
        inv["hostile and fault requests: every outcome as expected"] = not strict_unexpected
        if strict_unexpected:
            failures.append("unexpected outcomes: " + "; ".join(f"{k} x{len(v)} (first: {v[0]})" for k, v in strict_unexpected.items()))
        if rss_end is None or not baseline:
            inv["RSS within 10 % of baseline"] = False
            failures.append("no RSS at the end")
        else:
            inv["RSS within 10 % of baseline"] = rss_end <= baseline * 1.10
            if rss_end > baseline * 1.10:
                failures.append(f"RSS {rss_end} KiB is {100 * (rss_end / baseline - 1):.1f} % above the baseline {baseline} KiB")
        if kv["total"] is not None and kv["free"] is not None and kv["cached"] is not None:
            held = kv["total"] - kv["free"] - kv["cached"]
            kv["unaccounted"] = held
            inv["KV blocks: free + cached == total when idle"] = held == 0
            if held:
                failures.append(f"KV blocks unaccounted for when idle: total {kv['total']:.0f}, free {kv['free']:.0f}, "
                                f"cached {kv['cached']:.0f} ({held:.0f} held)")
        else:
            self.observations.append("the binary has no glm:kv_blocks_* metrics; checked glm:token_usage == 0 instead")
            inv["KV: token_usage == 0 when idle"] = kv["token_usage"] == 0
            if kv["token_usage"] != 0:
                failures.append(f"glm:token_usage is {kv['token_usage']} when idle")
        if server_5xx:
            self.observations.append(f"the server counted 5xx responses: {server_5xx}")
        drips = by_kind.get("slowloris-drip", {})
        if drips.get("held"):
            self.observations.append(f"slowloris-drip: {drips['held']} request heads trickled a byte every 2 s were still "
                                     "open after 20 s (the idle timeout resets on every byte; there is no deadline for a whole head)")

        counts = Counter(o.kind for o in self.outcomes)
        cats = Counter(self.kinds[o.kind][0] if o.kind in self.kinds else "fault" for o in self.outcomes)
        return {
            "requests": len(self.outcomes),
            "requests_by_category": dict(cats),
            "requests_by_kind": {k: dict(by_kind[k]) for k in sorted(by_kind, key=lambda k: -counts[k])},
            "resets_by_kind": dict(resets),
            "unexpected_by_kind": {k: {"count": len(v), "first": v[:5]} for k, v in unexpected.items()},
            "valid_latency_s": {"count": len(valid_lat), "p50": pct(valid_lat, 0.5), "p99": pct(valid_lat, 0.99),
                                "max": round(valid_lat[-1], 3) if valid_lat else None, "by_kind": per_kind_lat},
            "rss_kib": {"baseline": baseline, "baseline_samples": baseline_samples, "peak": rss_peak, "end": rss_end,
                        "timeline_s_kib": timeline,
                        "end_samples": end_samples,
                        "end_vs_baseline_pct": round(100 * (rss_end / baseline - 1), 2) if rss_end and baseline else None},
            "max_running_seen": max((x[1] for x in self.metric_samples if x[1] is not None), default=None),
            "max_queued_seen": max((x[2] for x in self.metric_samples if x[2] is not None), default=None),
            "kv_blocks_baseline": kv0,
            "kv_cached_timeline_s_blocks": [(round(x[0] - t0), x[3]) for i, x in enumerate(
                [x for x in self.metric_samples if x[4] == "load"]) if i % 15 == 0],
            "rss_vs_prefix_cache": rss_vs_cache,
            "kv_blocks_idle": kv,
            "aborted_requests": (m1.get("glm:num_aborted_requests_total") or 0) - (m0.get("glm:num_aborted_requests_total") or 0),
            "server_http_requests_total": server_by_status,
            "invariants": inv,
            "failures": failures,
            "observations": self.observations,
        }


def cpu_model():
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True, timeout=10).stdout.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except (OSError, subprocess.SubprocessError):
        pass
    return None


def print_summary(s):
    print("\n=== soak summary ===")
    print(f"date {s['date']}  cpu {s['cpu']}  load {s.get('load_seconds')} s  total {s.get('total_seconds')} s")
    print(f"requests {s.get('requests')}  by category {s.get('requests_by_category')}")
    for k, v in (s.get("requests_by_kind") or {}).items():
        print(f"  {k:30s} {v}")
    if s.get("resets_by_kind"):
        print(f"resets by kind {s['resets_by_kind']}")
    lat = s.get("valid_latency_s") or {}
    print(f"valid latency: n={lat.get('count')} p50={lat.get('p50')} s p99={lat.get('p99')} s max={lat.get('max')} s")
    r = s.get("rss_kib") or {}
    print(f"RSS KiB: baseline {r.get('baseline')} peak {r.get('peak')} end {r.get('end')} ({r.get('end_vs_baseline_pct')} %) "
          f"end samples {r.get('end_samples')}")
    print(f"max running {s.get('max_running_seen')} max queued {s.get('max_queued_seen')} aborted {s.get('aborted_requests')}")
    print(f"KV blocks when idle: {s.get('kv_blocks_idle')} (at the baseline: {s.get('kv_blocks_baseline')})")
    print(f"RSS growth vs blocks the prefix cache gained: {s.get('rss_vs_prefix_cache')}")
    for k, v in (s.get("unexpected_by_kind") or {}).items():
        print(f"unexpected {k}: {v['count']}, e.g. {v['first'][0]}")
    for o in s.get("observations") or []:
        print("observation:", o)
    print("invariants:")
    for k, v in (s.get("invariants") or {}).items():
        print(f"  [{'ok' if v else 'FAIL'}] {k}")
    for f in s.get("failures") or []:
        print("FAILURE:", f)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--glm", required=True, help="the glm binary")
    p.add_argument("--model-path", help="checkpoint folder (default: the embedded demo model)")
    p.add_argument("--minutes", type=float, default=5)
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--keepalive", type=int, default=3, help="idle keep-alive connection threads")
    p.add_argument("--seed", type=int, default=1)
    p.add_argument("--warmup", type=int, default=36, help="valid requests, one after another, to start with")
    p.add_argument("--warmup-seconds", type=float, default=20,
                   help="then the full mix at full concurrency for this long, before the RSS baseline (0: none)")
    p.add_argument("--threads", type=int, help="--threads for glm serve")
    p.add_argument("--kv-tokens", type=int, default=2048,
                   help="--max-total-tokens for glm serve (0: the server's default, 0.8 of RAM), so that the prefix "
                        "cache reaches its steady size during the warm-up")
    p.add_argument("--server-arg", action="append", metavar="ARG",
                   help="one more argument for glm serve, e.g. --server-arg=--disable-radix-cache (repeatable)")
    p.add_argument("--only", help="comma-separated request kinds to run alone (to find which one breaks an invariant)")
    p.add_argument("--startup-timeout", type=float, default=300)
    p.add_argument("--out", default="soak-results.json")
    p.add_argument("--log", help="server log file (default: next to --out)")
    a = p.parse_args()
    if a.minutes <= 0 or a.minutes > 120 or a.clients < 1 or a.clients > 64:
        raise SystemExit("--minutes must be in (0, 120] and --clients in [1, 64]")
    # The load is sized so that the admission queue never fills: each client has at most one
    # engine request in flight (abandoned ones are cancelled by the server).
    if a.clients + a.keepalive > MAX_RUNNING + MAX_QUEUED:
        raise SystemExit(f"--clients must stay below {MAX_RUNNING + MAX_QUEUED} so that a 503 is never legitimate")
    s = Soak(a).run()
    print_summary(s)
    Path(a.out).write_text(json.dumps(s, indent=2, default=str))
    print(f"wrote {a.out}")
    sys.exit(1 if s["failures"] else 0)


if __name__ == "__main__":
    main()
