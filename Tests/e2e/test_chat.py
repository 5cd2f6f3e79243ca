"""Chat completions through the official openai client: plain, streaming, reasoning, stop, seed, n, logprobs,
response_format."""

import json

import jsonschema
import openai
import pytest
from conftest import MODEL, request_of


def create(client, golden, name, **kw):
    req, extra = request_of(golden, name)
    extra.update(kw.pop("extra_body", {}))
    return client.chat.completions.create(model=MODEL, temperature=0, extra_body=extra or None, **req, **kw)


def collect(stream):
    """Concatenated deltas of a streamed chat completion, per field."""
    out = {"role": None, "content": "", "reasoning": "", "finish": None, "chunks": [], "usage": None, "ids": set()}
    for chunk in stream:
        out["chunks"].append(chunk)
        out["ids"].add(chunk.id)
        if chunk.usage is not None:
            out["usage"] = chunk.usage
        for choice in chunk.choices:
            d = choice.delta
            if d.role and out["role"] is None:
                out["role"] = d.role
            out["content"] += d.content or ""
            out["reasoning"] += getattr(d, "reasoning_content", None) or ""
            if choice.finish_reason:
                out["finish"] = choice.finish_reason
    return out


def test_reasoning_on(client, golden):
    r = create(client, golden, "reasoning")
    m = r.choices[0].message
    assert m.role == "assistant"
    assert m.reasoning_content == "Two plus two equals four."
    assert m.content == "The answer is 4."
    assert r.choices[0].finish_reason == "stop"
    assert r.object == "chat.completion" and r.id.startswith("chatcmpl-") and r.model == MODEL
    c = golden["reasoning"]
    assert r.usage.prompt_tokens == len(c["prompt_ids"])
    assert r.usage.completion_tokens == len(c["completion_ids"])
    assert r.usage.total_tokens == r.usage.prompt_tokens + r.usage.completion_tokens


def test_reasoning_off(client, golden):
    r = create(client, golden, "no_thinking")
    assert r.choices[0].message.content == "The answer is 4."
    assert getattr(r.choices[0].message, "reasoning_content", None) is None


def test_separate_reasoning_false(client, golden):
    r = create(client, golden, "reasoning", extra_body={"separate_reasoning": False})
    # As SGLang: the raw text, untrimmed.
    assert r.choices[0].message.content == "\n<think>Two plus two equals four.</think>\nThe answer is 4."


def test_streaming(client, golden):
    out = collect(create(client, golden, "reasoning", stream=True, stream_options={"include_usage": True}))
    assert out["role"] == "assistant"
    assert out["chunks"][0].choices[0].delta.role == "assistant"
    assert out["reasoning"] == "Two plus two equals four."
    assert out["content"] == "The answer is 4."
    assert out["finish"] == "stop"
    assert len(out["ids"]) == 1
    assert out["usage"] is not None and out["usage"].completion_tokens == len(golden["reasoning"]["completion_ids"])
    assert out["chunks"][-1].choices == []


def test_streaming_without_usage(client, golden):
    out = collect(create(client, golden, "no_thinking", stream=True))
    assert out["content"] == "The answer is 4."
    assert out["usage"] is None


def test_stop_string(client, golden):
    r = create(client, golden, "reasoning", stop=["answer"])
    assert r.choices[0].message.content == "The"
    assert r.choices[0].message.reasoning_content == "Two plus two equals four."
    assert r.choices[0].finish_reason == "stop"


def test_stop_string_split_across_tokens_in_stream(client, golden):
    out = collect(create(client, golden, "no_thinking", stop="swer is", stream=True))
    assert out["content"] == "The an"
    assert "sw" not in "".join(c.choices[0].delta.content or "" for c in out["chunks"] if c.choices)
    assert out["finish"] == "stop"


def test_max_tokens_and_length(client, golden):
    r = create(client, golden, "reasoning", max_tokens=4)
    assert r.choices[0].finish_reason == "length"
    assert r.usage.completion_tokens == 4
    r = create(client, golden, "reasoning", max_completion_tokens=3)
    assert r.usage.completion_tokens == 3


def test_seed_reproducible(client):
    # The trained model answers every question alike; past the stop token (ignore_eos) its output is random.
    kw = dict(model=MODEL, messages=[{"role": "user", "content": "Tell me a joke."}], temperature=1.0, max_tokens=24,
              extra_body={"ignore_eos": True})
    a = client.chat.completions.create(seed=7, **kw)
    b = client.chat.completions.create(seed=7, **kw)
    c = client.chat.completions.create(seed=8, **kw)
    assert a.choices[0].message.content == b.choices[0].message.content
    assert a.choices[0].message.content != c.choices[0].message.content


def test_n_choices(client):
    r = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "Count from one to ten."}],
                                       temperature=1.0, seed=3, n=3, max_tokens=24, extra_body={"ignore_eos": True})
    assert [c.index for c in r.choices] == [0, 1, 2]
    assert len({c.message.content for c in r.choices}) > 1
    assert r.usage.completion_tokens == 72


def test_n_choices_streaming(client):
    stream = client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "Hello"}], temperature=1.0,
                                            seed=3, n=2, max_tokens=6, stream=True)
    finished = {}
    for chunk in stream:
        for c in chunk.choices:
            if c.finish_reason:
                finished[c.index] = c.finish_reason
    assert set(finished) == {0, 1}


def test_logprobs(client, golden):
    r = create(client, golden, "no_thinking", logprobs=True, top_logprobs=2)
    content = r.choices[0].logprobs.content
    assert len(content) == len(golden["no_thinking"]["completion_ids"])
    for entry in content:
        assert entry.logprob <= 0
        assert len(entry.top_logprobs) == 2
        assert entry.top_logprobs[0].token == entry.token
        assert isinstance(entry.bytes, list)


def test_penalties_and_logit_bias(client, golden):
    banned = golden["no_thinking"]["completion_ids"][1]
    r = create(client, golden, "no_thinking", logit_bias={str(banned): -100}, max_tokens=4)
    assert r.choices[0].message.content != "The answer is 4."
    r = create(client, golden, "no_thinking", presence_penalty=1.5, frequency_penalty=1.0,
               extra_body={"repetition_penalty": 1.3, "top_k": 5, "min_p": 0.05}, max_tokens=8)
    assert r.choices[0].finish_reason in ("stop", "length")


def test_content_parts_and_developer_role(client):
    r = client.chat.completions.create(model=MODEL, max_tokens=2, messages=[
        {"role": "developer", "content": "Be brief."},
        {"role": "user", "content": [{"type": "text", "text": "What is "}, {"type": "text", "text": "2+2?"}]}])
    assert r.choices[0].finish_reason in ("stop", "length")


def test_skip_special_tokens_false(client):
    r = client.chat.completions.create(model=MODEL, max_tokens=4, messages=[{"role": "user", "content": "Hello"}],
                                       extra_body={"skip_special_tokens": False})
    assert r.choices[0].message is not None


def test_models(client):
    models = client.models.list()
    assert [m.id for m in models.data] == [MODEL]
    assert client.models.retrieve(MODEL).id == MODEL


def test_response_format_json_object(client, http, golden):
    # The tiny model never closes a string by itself; a bias towards `"` and `}` lets the object end.
    ids = {t: http.post("/tokenize", json={"model": MODEL, "prompt": t}).json()["tokens"] for t in ['"', "}"]}
    assert all(len(v) == 1 for v in ids.values()), ids
    bias = {str(ids['"'][0]): 60, str(ids["}"][0]): 30}
    r = create(client, golden, "no_thinking", response_format={"type": "json_object"}, logit_bias=bias, max_tokens=60)
    assert r.choices[0].finish_reason == "stop"
    assert isinstance(json.loads(r.choices[0].message.content), dict)


# Finite choices only (booleans, enums, null, a bounded list), so every output closes within max_tokens.
READING_SCHEMA = {
    "type": "object", "additionalProperties": False, "required": ["ok", "unit", "tags", "note", "count"],
    "properties": {
        "ok": {"type": "boolean"},
        "note": {"type": "string", "minLength": 2, "maxLength": 6},
        "count": {"type": "integer", "minimum": 3, "exclusiveMaximum": 40},
        "unit": {"enum": ["celsius", "fahrenheit"]},
        "tags": {"type": "array", "items": {"$ref": "#/$defs/tag"}, "minItems": 1, "maxItems": 2},
        "extra": {"anyOf": [{"type": "null"}, {"type": "object", "properties": {"seen": {"type": "boolean"}},
                                                "required": ["seen"], "additionalProperties": False}]},
    },
    "$defs": {"tag": {"enum": ["hot", "cold", "windy"]}},
}


@pytest.mark.parametrize("name", ["no_thinking", "reasoning"])
def test_response_format_json_schema(client, golden, name):
    fmt = {"type": "json_schema", "json_schema": {"name": "reading", "schema": READING_SCHEMA, "strict": True}}
    r = create(client, golden, name, response_format=fmt, max_tokens=400)
    assert r.choices[0].finish_reason == "stop", r.choices[0].message.content
    jsonschema.validate(json.loads(r.choices[0].message.content), READING_SCHEMA)   # python-jsonschema as the oracle
    with pytest.raises(openai.BadRequestError) as e:
        create(client, golden, name, response_format={"type": "json_schema", "json_schema": {
            "name": "x", "schema": {"type": "object", "properties": {"a": {"not": {"type": "string"}}}}}})
    assert "schema.properties.a.not" in str(e.value)
