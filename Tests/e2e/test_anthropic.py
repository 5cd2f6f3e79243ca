"""Anthropic's Messages API (/v1/messages) through the official `anthropic` client. Each golden
conversation, written in Anthropic's form, must give what /v1/chat/completions gives for it on the
same server (thinking = reasoning_content, text = content, tool_use = tool_calls), streamed or not;
the client's own stream accumulator checks the event protocol."""

import json

import anthropic
import httpx
import jsonschema
import pytest
from conftest import API_KEY, BASE_URL, MODEL, request_of

CONVERSATIONS = ["reasoning", "no_thinking", "tool_call", "reasoning_tool_call", "tool_result"]
FINISH = {"stop": "end_turn", "tool_calls": "tool_use", "length": "max_tokens"}


@pytest.fixture(scope="module")
def claude():
    return anthropic.Anthropic(base_url=BASE_URL, api_key=API_KEY, max_retries=0, timeout=300)


def anthropic_request(golden, name, **overrides):
    """The golden chat request in Anthropic's form: system apart, tool calls as tool_use blocks,
    tool results as tool_result blocks in user turns, thinking off as thinking.type disabled."""
    req = golden[name]["request"]
    # The client no longer sends sampling parameters; greedy decoding is asked for in extra_body.
    out = {"model": "claude-sonnet-4-5", "max_tokens": 200, "extra_body": {"temperature": 0}, "messages": []}
    for m in req["messages"]:
        if m["role"] == "system":
            out["system"] = m["content"]
        elif m["role"] == "user":
            out["messages"].append({"role": "user", "content": m["content"]})
        elif m["role"] == "assistant":
            blocks = [{"type": "text", "text": m["content"]}] if m.get("content") else []
            blocks += [{"type": "tool_use", "id": c["id"], "name": c["function"]["name"],
                        "input": json.loads(c["function"]["arguments"])} for c in m.get("tool_calls") or []]
            out["messages"].append({"role": "assistant", "content": blocks})
        else:
            out["messages"].append({"role": "user", "content": [
                {"type": "tool_result", "tool_use_id": m["tool_call_id"], "content": m["content"]}]})
    if req.get("tools"):
        out["tools"] = [{"name": t["function"]["name"], "description": t["function"]["description"],
                         "input_schema": t["function"]["parameters"]} for t in req["tools"]]
    if req.get("chat_template_kwargs", {}).get("enable_thinking") is False:
        out["thinking"] = {"type": "disabled"}
    return out | overrides


def chat_reply(client, golden, name, **kw):
    req, extra = request_of(golden, name)
    return client.chat.completions.create(model=MODEL, temperature=0, max_tokens=200, extra_body=extra or None,
                                          **req, **kw)


def blocks_of(content):
    """Content blocks as (type, value) pairs; tool_use ids aside (they are random)."""
    out = []
    for b in content:
        if b.type == "thinking":
            out.append(("thinking", b.thinking))
        elif b.type == "text":
            out.append(("text", b.text))
        else:
            assert b.type == "tool_use" and b.id.startswith("call_")
            out.append(("tool_use", b.name, b.input))
    return out


@pytest.mark.parametrize("name", CONVERSATIONS)
def test_same_answer_as_chat_completions(client, claude, golden, name):
    chat = chat_reply(client, golden, name)
    m = chat.choices[0].message
    expected = [("thinking", m.reasoning_content)] if getattr(m, "reasoning_content", None) else []
    expected += [("text", m.content)] if m.content else []
    expected += [("tool_use", c.function.name, json.loads(c.function.arguments)) for c in m.tool_calls or []]
    assert expected, "the golden conversation answers something"

    message = claude.messages.create(**anthropic_request(golden, name))
    assert message.type == "message" and message.role == "assistant" and message.id.startswith("msg_")
    assert blocks_of(message.content) == expected
    assert message.stop_reason == FINISH[chat.choices[0].finish_reason]
    assert message.stop_sequence is None
    assert message.usage.output_tokens == chat.usage.completion_tokens
    assert message.usage.input_tokens + message.usage.cache_read_input_tokens == chat.usage.prompt_tokens

    counted = claude.messages.count_tokens(**{k: v for k, v in anthropic_request(golden, name).items()
                                              if k not in ("max_tokens", "extra_body")})
    assert counted.input_tokens == chat.usage.prompt_tokens


@pytest.mark.parametrize("name", CONVERSATIONS)
def test_streamed_message_is_the_same(claude, golden, name):
    request = anthropic_request(golden, name)
    whole = claude.messages.create(**request)
    with claude.messages.stream(**request) as stream:
        kinds = [event.type for event in stream]
        streamed = stream.get_final_message()
    assert kinds[0] == "message_start" and kinds[-1] == "message_stop"
    assert blocks_of(streamed.content) == blocks_of(whole.content)
    assert streamed.stop_reason == whole.stop_reason
    assert streamed.usage.output_tokens == whole.usage.output_tokens


def test_stop_sequence(client, claude, golden):
    text = chat_reply(client, golden, "no_thinking").choices[0].message.content
    words = text.split()
    assert len(words) >= 3, text
    stop = " " + words[1]
    message = claude.messages.create(**anthropic_request(golden, "no_thinking", stop_sequences=["@@never", stop]))
    assert message.stop_reason == "stop_sequence"
    assert message.stop_sequence == stop
    assert blocks_of(message.content) == [("text", text[: text.index(stop)])]


def test_errors_have_anthropic_shape(claude, golden):
    with pytest.raises(anthropic.AuthenticationError):
        anthropic.Anthropic(base_url=BASE_URL, api_key="wrong", max_retries=0).messages.create(
            **anthropic_request(golden, "reasoning"))
    with pytest.raises(anthropic.BadRequestError) as image:
        claude.messages.create(model="x", max_tokens=10, messages=[{"role": "user", "content": [
            {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": "iVBORw0KGgo="}}]}])
    assert "image" in str(image.value)
    r = httpx.post(BASE_URL + "/v1/messages", headers={"x-api-key": API_KEY},
                   json={"model": "x", "messages": [{"role": "user", "content": "hi"}]}, timeout=60)
    assert r.status_code == 400
    assert r.json() == {"type": "error", "error": {"type": "invalid_request_error", "message": "'max_tokens' is required."}}


def test_structured_output(claude):
    schema = {"type": "object", "properties": {"answer": {"type": "string", "maxLength": 12}}, "required": ["answer"],
              "additionalProperties": False}
    message = claude.messages.create(model="x", max_tokens=80, messages=[{"role": "user", "content": "What is 2+2?"}],
                                     thinking={"type": "disabled"},
                                     output_config={"format": {"type": "json_schema", "schema": schema}},
                                     extra_body={"temperature": 0})
    assert [b.type for b in message.content] == ["text"]
    jsonschema.validate(json.loads(message.content[0].text), schema)
