"""OpenAI's Responses API (/v1/responses) through the official `openai` client. Each golden
conversation, written as Responses input items, must give what /v1/chat/completions gives for it on
the same server (reasoning item = reasoning_content, message = content, function_call items =
tool_calls), streamed or not; the client's own stream accumulator checks the event protocol."""

import json

import jsonschema
import openai
import pytest
from conftest import MODEL, request_of

CONVERSATIONS = ["reasoning", "no_thinking", "tool_call", "reasoning_tool_call", "tool_result"]


def responses_request(golden, name, **overrides):
    """The golden chat request as a Responses request: system as instructions, tool calls as
    function_call items, tool results as function_call_output items, thinking off as effort none."""
    req = golden[name]["request"]
    out = {"model": MODEL, "max_output_tokens": 200, "temperature": 0, "input": []}
    for m in req["messages"]:
        if m["role"] == "system":
            out["instructions"] = m["content"]
        elif m["role"] == "user":
            out["input"].append({"role": "user", "content": m["content"]})
        elif m["role"] == "assistant":
            if m.get("content"):
                out["input"].append({"role": "assistant", "content": m["content"]})
            out["input"] += [{"type": "function_call", "call_id": c["id"], "name": c["function"]["name"],
                              "arguments": c["function"]["arguments"]} for c in m.get("tool_calls") or []]
        else:
            out["input"].append({"type": "function_call_output", "call_id": m["tool_call_id"], "output": m["content"]})
    if req.get("tools"):
        out["tools"] = [{"type": "function", **t["function"]} for t in req["tools"]]
    if req.get("chat_template_kwargs", {}).get("enable_thinking") is False:
        out["reasoning"] = {"effort": "none"}
    return out | overrides


def items_of(output):
    out = []
    for item in output:
        if item.type == "reasoning":
            out.append(("reasoning", "".join(c.text for c in item.content)))
        elif item.type == "message":
            out.append(("message", "".join(c.text for c in item.content)))
        else:
            assert item.type == "function_call" and item.call_id.startswith("call_")
            out.append(("function_call", item.name, json.loads(item.arguments)))
    return out


@pytest.mark.parametrize("name", CONVERSATIONS)
def test_same_answer_as_chat_completions(client, golden, name):
    req, extra = request_of(golden, name)
    chat = client.chat.completions.create(model=MODEL, temperature=0, max_tokens=200, extra_body=extra or None, **req)
    m = chat.choices[0].message
    expected = [("reasoning", m.reasoning_content)] if getattr(m, "reasoning_content", None) else []
    expected += [("message", m.content)] if m.content else []
    expected += [("function_call", c.function.name, json.loads(c.function.arguments)) for c in m.tool_calls or []]

    r = client.responses.create(**responses_request(golden, name))
    assert r.object == "response" and r.id.startswith("resp_") and r.status == "completed"
    assert items_of(r.output) == expected
    assert r.output_text == (m.content or "")
    assert r.usage.output_tokens == chat.usage.completion_tokens
    assert r.usage.input_tokens == chat.usage.prompt_tokens


@pytest.mark.parametrize("name", CONVERSATIONS)
def test_streamed_response_is_the_same(client, golden, name):
    request = responses_request(golden, name)
    whole = client.responses.create(**request)
    with client.responses.stream(**request) as stream:
        kinds = [event.type for event in stream]
        streamed = stream.get_final_response()
    assert kinds[:2] == ["response.created", "response.in_progress"] and kinds[-1] == "response.completed"
    assert items_of(streamed.output) == items_of(whole.output)
    assert streamed.usage.output_tokens == whole.usage.output_tokens


def test_max_output_tokens_is_incomplete(client, golden):
    r = client.responses.create(**responses_request(golden, "reasoning", max_output_tokens=3))
    assert r.status == "incomplete" and r.incomplete_details.reason == "max_output_tokens"
    assert r.usage.output_tokens == 3


def test_json_schema_format(client):
    schema = {"type": "object", "properties": {"answer": {"type": "string", "maxLength": 12}}, "required": ["answer"],
              "additionalProperties": False}
    r = client.responses.create(model=MODEL, input="What is 2+2?", temperature=0, max_output_tokens=80,
                                reasoning={"effort": "none"},
                                text={"format": {"type": "json_schema", "name": "answer", "schema": schema}})
    jsonschema.validate(json.loads(r.output_text), schema)


def test_unsupported_requests_are_400s(client):
    with pytest.raises(openai.BadRequestError) as stateful:
        client.responses.create(model=MODEL, input="hi", previous_response_id="resp_123")
    assert "previous_response_id" in str(stateful.value)
    with pytest.raises(openai.BadRequestError) as tool:
        client.responses.create(model=MODEL, input="hi", tools=[{"type": "web_search"}])
    assert "tools[0].type" in str(tool.value)
