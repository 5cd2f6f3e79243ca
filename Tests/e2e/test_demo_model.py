"""`glm serve` without --model-path: the embedded glm-4.5-demo model.

Starts a second server with no flags but the port (as README's first command does), so it loads the
demo model from the resource bundle next to the `glm` binary (swift-glm_DemoModel.resources) with
the glm45 tool-call and reasoning parsers on by default, and asks it what its training data taught
it, with thinking on and off. (Issue 6's tool-call check, "What's the weather like in Boston?"
answered with get_current_weather(location: Boston), is not here: the current demo model recites
tool names and cities from its training data instead of copying them; see Tools/demo-model/report.md.)"""

import httpx
import openai
import pytest

from conftest import free_port, start_server, stop_server, wait_healthy

DEMO = "glm-4.5-demo"

@pytest.fixture(scope="module")
def demo_server():
    port = free_port()
    proc = start_server(["--port", str(port), "--threads", "1"])
    base = f"http://127.0.0.1:{port}"
    if not wait_healthy(base, timeout=120, proc=proc):
        pytest.fail("glm serve without --model-path never became healthy:\n" + stop_server(proc))
    try:
        yield base
    finally:
        log = stop_server(proc)
        assert f"serving the embedded demo model {DEMO}" in log, log


@pytest.fixture(scope="module")
def demo_client(demo_server):
    # The demo server has no --api-key; the client insists on one.
    return openai.OpenAI(base_url=demo_server + "/v1", api_key="unused", max_retries=0, timeout=300)


def test_models_lists_the_demo_model(demo_server, demo_client):
    ids = [m["id"] for m in httpx.get(demo_server + "/v1/models", timeout=30).json()["data"]]
    assert DEMO in ids
    assert [m.id for m in demo_client.models.list()] == ids


def test_answers_with_reasoning_when_thinking(demo_client):
    r = demo_client.chat.completions.create(
        model=DEMO, messages=[{"role": "user", "content": "What is the capital of France?"}], temperature=0)
    message = r.choices[0].message
    assert "Paris" in message.content
    assert "France" in (getattr(message, "reasoning_content", None) or "")
    assert r.choices[0].finish_reason == "stop"


def test_answers_without_reasoning_when_thinking_is_off(demo_client):
    r = demo_client.chat.completions.create(
        model=DEMO, messages=[{"role": "user", "content": "What is the capital of Italy?"}], temperature=0,
        extra_body={"chat_template_kwargs": {"enable_thinking": False}})
    message = r.choices[0].message
    assert "Rome" in message.content
    assert not getattr(message, "reasoning_content", None)
