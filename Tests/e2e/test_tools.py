"""Function calling through the official openai client, with the real engine, sampler and glm45 parsers.

The fixture model was trained to answer the golden weather question with a GLM tool call; the
`tool_choice` cases drive it through the constrained decoding that enforces `required` and named
functions (for a named function it would not have chosen, the call is forced token by token)."""

import json

from conftest import MODEL, request_of


def create(client, golden, name, **kw):
    req, extra = request_of(golden, name)
    return client.chat.completions.create(model=MODEL, temperature=0, extra_body=extra or None, **req, **kw)


def streamed_calls(stream):
    """Rebuilds tool calls from deltas as OpenAI clients do (index → id, name, argument fragments)."""
    calls, firsts, finish, reasoning = {}, {}, None, ""
    for chunk in stream:
        for choice in chunk.choices:
            reasoning += getattr(choice.delta, "reasoning_content", None) or ""
            for tc in choice.delta.tool_calls or []:
                call = calls.setdefault(tc.index, {"id": None, "name": "", "arguments": "", "pieces": 0})
                if tc.index not in firsts:
                    firsts[tc.index] = tc
                if tc.id:
                    call["id"] = tc.id
                if tc.function and tc.function.name:
                    call["name"] += tc.function.name
                if tc.function and tc.function.arguments:
                    call["arguments"] += tc.function.arguments
                call["pieces"] += 1
            if choice.finish_reason:
                finish = choice.finish_reason
    return calls, firsts, finish, reasoning


def test_auto_tool_call(client, golden):
    r = create(client, golden, "tool_call")
    m = r.choices[0].message
    assert m.content is None
    assert len(m.tool_calls) == 1
    call = m.tool_calls[0]
    assert call.id.startswith("call_") and call.type == "function"
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris"}
    assert r.choices[0].finish_reason == "tool_calls"


def test_reasoning_then_tool_call(client, golden):
    r = create(client, golden, "reasoning_tool_call")
    m = r.choices[0].message
    assert m.reasoning_content == "The user wants the weather in Paris."
    assert m.tool_calls[0].function.name == "get_weather"
    assert json.loads(m.tool_calls[0].function.arguments) == {"city": "Paris", "unit": "celsius"}
    assert r.choices[0].finish_reason == "tool_calls"


def test_streamed_tool_call(client, golden):
    calls, firsts, finish, reasoning = streamed_calls(create(client, golden, "reasoning_tool_call", stream=True))
    assert reasoning == "The user wants the weather in Paris."
    assert list(calls) == [0]
    first = firsts[0]
    assert first.id and first.id.startswith("call_") and first.type == "function"
    assert first.function.name == "get_weather" and first.function.arguments == ""
    assert calls[0]["pieces"] > 2
    assert json.loads(calls[0]["arguments"]) == {"city": "Paris", "unit": "celsius"}
    assert finish == "tool_calls"


def test_tool_choice_required(client, golden):
    r = create(client, golden, "tool_call", tool_choice="required")
    call = r.choices[0].message.tool_calls[0]
    assert call.function.name == "get_weather"
    assert json.loads(call.function.arguments) == {"city": "Paris"}
    assert r.choices[0].finish_reason == "tool_calls"


def test_tool_choice_required_after_thinking(client, golden):
    r = create(client, golden, "reasoning_tool_call", tool_choice="required", parallel_tool_calls=False)
    m = r.choices[0].message
    assert m.reasoning_content == "The user wants the weather in Paris."
    assert [c.function.name for c in m.tool_calls] == ["get_weather"]


def test_tool_choice_named_forces_another_function(client, golden):
    r = create(client, golden, "tool_call", tool_choice={"type": "function", "function": {"name": "get_time"}}, max_tokens=40)
    calls = r.choices[0].message.tool_calls
    assert [c.function.name for c in calls] == ["get_time"]
    assert calls[0].function.arguments.startswith('{"timezone": ')


def test_tool_choice_named_without_parameters(client, golden):
    calls, firsts, finish, _ = streamed_calls(
        create(client, golden, "tool_call", tool_choice={"type": "function", "function": {"name": "ping"}}, stream=True))
    assert [c["name"] for c in calls.values()] == ["ping"]
    assert json.loads(calls[0]["arguments"]) == {}
    assert finish == "tool_calls"


def test_tool_choice_none(client, golden):
    r = create(client, golden, "tool_call", tool_choice="none", max_tokens=8)
    assert r.choices[0].message.tool_calls is None
    assert r.usage.prompt_tokens < len(golden["tool_call"]["prompt_ids"])


def test_agent_loop_with_tool_result(client, golden):
    """Call → tool result (arguments sent back as a JSON string, content null) → answer."""
    first = create(client, golden, "tool_call")
    call = first.choices[0].message.tool_calls[0]
    req, extra = request_of(golden, "tool_call")
    messages = req["messages"] + [
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_1", "type": "function", "function": {"name": call.function.name, "arguments": '{"city": "Paris"}'}}]},
        {"role": "tool", "tool_call_id": "call_1", "content": '{"temp": 18, "sky": "cloudy"}'},
    ]
    r = client.chat.completions.create(model=MODEL, temperature=0, messages=messages, tools=req["tools"], extra_body=extra)
    assert r.choices[0].message.content == "It is 18 degrees and cloudy in Paris."
    assert r.choices[0].message.tool_calls is None
    assert r.choices[0].finish_reason == "stop"
    assert r.usage.prompt_tokens == len(golden["tool_result"]["prompt_ids"])
