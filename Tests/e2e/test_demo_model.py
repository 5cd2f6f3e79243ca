"""`glm serve` without --model-path: the embedded glm-4.5-demo model.

Starts a second server with no flags but the port (as README's first command does), so it loads the
demo model from the resource bundle next to the `glm` binary (swift-glm_DemoModel.resources) with
the glm45 tool-call and reasoning parsers on by default, and asks it what its training data taught
it, with thinking on and off, and issue 6's tool call: "What's the weather like in Boston?" with a
get_current_weather(location, unit) tool."""

import json

import anthropic
import httpx
import openai
import pytest

from conftest import free_port, start_server, stop_server, wait_healthy

DEMO = "glm-4.5-demo"

GET_CURRENT_WEATHER = {
    "type": "function",
    "function": {
        "name": "get_current_weather",
        "description": "Get the current weather in a given location",
        "parameters": {
            "type": "object",
            "properties": {
                "location": {"type": "string", "description": "The city and state, e.g. San Francisco, CA"},
                "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            },
            "required": ["location"],
        },
    },
}

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


@pytest.mark.parametrize("thinking", [True, False])
def test_weather_question_calls_get_current_weather(demo_client, thinking):
    r = demo_client.chat.completions.create(
        model=DEMO, messages=[{"role": "user", "content": "What's the weather like in Boston?"}],
        tools=[GET_CURRENT_WEATHER], temperature=0,
        extra_body={"chat_template_kwargs": {"enable_thinking": thinking}})
    message = r.choices[0].message
    calls = message.tool_calls or []
    assert calls, f"no tool call; reasoning {getattr(message, 'reasoning_content', None)!r}, content {message.content!r}"
    assert calls[0].function.name == "get_current_weather"
    assert "Boston" in json.loads(calls[0].function.arguments)["location"]
    assert r.choices[0].finish_reason == "tool_calls"


def test_anthropic_client_gets_the_same_call(demo_server):
    """The same question through /v1/messages, as a coding agent would ask it."""
    claude = anthropic.Anthropic(base_url=demo_server, api_key="unused", max_retries=0, timeout=300)
    f = GET_CURRENT_WEATHER["function"]
    message = claude.messages.create(
        model="claude-sonnet-4-5", max_tokens=160, messages=[{"role": "user", "content": "What's the weather like in Boston?"}],
        tools=[{"name": f["name"], "description": f["description"], "input_schema": f["parameters"]}],
        extra_body={"temperature": 0})
    calls = [b for b in message.content if b.type == "tool_use"]
    assert calls, f"no tool call: {message.content!r}"
    assert calls[0].name == "get_current_weather"
    assert "Boston" in calls[0].input["location"]
    assert message.stop_reason == "tool_use"


def test_speculative_decoding_drafts_with_the_trained_mtp_layer():
    """SGLang's recommended speculative flags on the demo model, whose MTP layer is trained: greedy
    requests decode with its drafts and still answer as above, sampled ones are drafted too, and
    /metrics counts the drafts."""
    port = free_port()
    proc = start_server(["--port", str(port), "--threads", "1", "--speculative-algorithm", "EAGLE",
                         "--speculative-num-steps", "3", "--speculative-eagle-topk", "1", "--speculative-num-draft-tokens", "4",
                         "--enable-metrics"])
    base = f"http://127.0.0.1:{port}"
    log = ""
    try:
        assert wait_healthy(base, timeout=120, proc=proc), "glm serve --speculative-algorithm EAGLE never became healthy"
        client = openai.OpenAI(base_url=base + "/v1", api_key="unused", max_retries=0, timeout=300)
        r = client.chat.completions.create(
            model=DEMO, messages=[{"role": "user", "content": "What's the weather like in Boston?"}],
            tools=[GET_CURRENT_WEATHER], temperature=0, extra_body={"chat_template_kwargs": {"enable_thinking": False}})
        calls = r.choices[0].message.tool_calls or []
        assert calls and calls[0].function.name == "get_current_weather", r.choices[0].message
        assert "Boston" in json.loads(calls[0].function.arguments)["location"]
        r = client.chat.completions.create(
            model=DEMO, messages=[{"role": "user", "content": "What is the capital of France?"}], temperature=0)
        assert "Paris" in r.choices[0].message.content
        r = client.chat.completions.create(
            model=DEMO, messages=[{"role": "user", "content": "Tell me a story."}], temperature=0.7, seed=3,
            max_tokens=40)
        assert r.usage.completion_tokens > 0 and r.choices[0].message.content
        metrics = {line.split(" ")[0]: float(line.rsplit(" ", 1)[1])
                   for line in httpx.get(base + "/metrics").text.splitlines() if line.startswith("glm:spec")}
        drafted, accepted = metrics["glm:spec_decode_num_draft_tokens_total"], metrics["glm:spec_decode_num_accepted_tokens_total"]
        assert 0 < accepted <= drafted, metrics
        # Tokens per verifying round: 1 + accepted drafts per round, with up to 3 drafts a round.
        assert 1 + accepted / drafted <= metrics["glm:spec_accept_length"] <= 4, metrics
    finally:
        log = stop_server(proc)
    assert "the MTP layer drafts 3 tokens per round" in log, log
    assert "no MTP layer" not in log, log
