"""Every error the issue lists, as the openai client sees it and as raw HTTP."""

import json
import threading

import httpx
import openai
import pytest

from conftest import API_KEY, BASE_URL, MODEL

HELLO = [{"role": "user", "content": "Hi"}]


def error_of(response):
    body = response.json()
    assert set(body) == {"error"}, body
    assert set(body["error"]) == {"message", "type", "param", "code"}, body
    return body["error"]


def test_invalid_json(http):
    r = http.post("/v1/chat/completions", content=b'{"model": "x", "messages": [', headers={"Content-Type": "application/json"})
    assert r.status_code == 400
    assert error_of(r)["type"] == "invalid_request_error"


def test_invalid_utf8(http):
    r = http.post("/v1/chat/completions", content=b'{"messages": [{"role": "user", "content": "\xff\xfe"}]}')
    assert r.status_code == 400
    assert "UTF-8" in error_of(r)["message"]


@pytest.mark.parametrize("kwargs, param", [
    (dict(messages="Hi"), "messages"),
    (dict(messages=HELLO, temperature="hot"), "temperature"),
    (dict(messages=[{"role": "user", "content": 5}]), "messages[0].content"),
    (dict(messages=HELLO, n="two"), "n"),
])
def test_wrong_types(client, kwargs, param):
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model=MODEL, **kwargs)
    assert e.value.status_code == 400
    assert error_of(e.value.response)["param"] == param


@pytest.mark.parametrize("kwargs, param", [
    (dict(temperature=5), "temperature"), (dict(top_p=0), "top_p"), (dict(n=0), "n"), (dict(max_tokens=0), "max_tokens"),
    (dict(presence_penalty=3), "presence_penalty"), (dict(frequency_penalty=-3), "frequency_penalty"),
    (dict(logprobs=True, top_logprobs=50), "top_logprobs"), (dict(logit_bias={"999999": 1}), "logit_bias"),
    (dict(extra_body={"top_k": -5}), "top_k"), (dict(extra_body={"repetition_penalty": 9}), "repetition_penalty"),
])
def test_out_of_range(client, kwargs, param):
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model=MODEL, messages=HELLO, **kwargs)
    assert error_of(e.value.response)["param"] == param


def test_empty_messages(client):
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model=MODEL, messages=[])
    assert error_of(e.value.response)["param"] == "messages"


def test_context_length(client):
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model=MODEL, messages=HELLO, max_tokens=5000)
    err = error_of(e.value.response)
    assert "2048" in err["message"] and "5000" in err["message"]
    assert err["code"] == "context_length_exceeded"
    with pytest.raises(openai.BadRequestError):
        client.completions.create(model=MODEL, prompt="word " * 3000, max_tokens=10)


def test_unknown_tool_in_history(client, golden):
    messages = HELLO + [
        {"role": "assistant", "content": None, "tool_calls": [
            {"id": "call_9", "type": "function", "function": {"name": "launch_rockets", "arguments": "{}"}}]},
        {"role": "tool", "tool_call_id": "call_9", "content": "done"}]
    with pytest.raises(openai.BadRequestError) as e:
        client.chat.completions.create(model=MODEL, messages=messages, tools=golden["_tools"])
    assert "launch_rockets" in error_of(e.value.response)["message"]


def test_tool_choice_errors(client, golden):
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model=MODEL, messages=HELLO, tool_choice="required")
    with pytest.raises(openai.BadRequestError):
        client.chat.completions.create(model=MODEL, messages=HELLO, tools=golden["_tools"],
                                       tool_choice={"type": "function", "function": {"name": "nope"}})


def test_api_key():
    bad = openai.OpenAI(base_url=BASE_URL + "/v1", api_key="sk-wrong", max_retries=0)
    with pytest.raises(openai.AuthenticationError) as e:
        bad.chat.completions.create(model=MODEL, messages=HELLO)
    assert error_of(e.value.response)["code"] == "invalid_api_key"
    assert httpx.get(BASE_URL + "/v1/models").status_code == 401
    assert httpx.get(BASE_URL + "/v1/models", headers={"Authorization": "Bearer " + API_KEY[:-1]}).status_code == 401
    assert httpx.get(BASE_URL + "/health").status_code == 200


def test_unknown_model_and_route(client, http):
    with pytest.raises(openai.NotFoundError) as e:
        client.chat.completions.create(model="gpt-4o", messages=HELLO)
    assert error_of(e.value.response)["code"] == "model_not_found"
    r = http.get("/v1/engines")
    assert r.status_code == 404
    error_of(r)


def test_body_too_large(http):
    big = json.dumps({"model": MODEL, "messages": [{"role": "user", "content": "x" * 2_000_000}]})
    r = http.post("/v1/chat/completions", content=big, headers={"Content-Type": "application/json"})
    assert r.status_code == 413
    error_of(r)


def test_queue_full(client):
    """The server admits 4 running + 4 queued engine requests; more get 503 at once."""
    with pytest.raises(openai.APIStatusError) as e:
        client.chat.completions.create(model=MODEL, messages=HELLO, n=9, max_tokens=1)
    assert e.value.status_code == 503
    assert error_of(e.value.response)["type"] == "unavailable_error"


def test_queue_full_under_concurrent_load():
    statuses = []
    lock = threading.Lock()

    def one():
        with httpx.Client(base_url=BASE_URL, timeout=300, headers={"Authorization": f"Bearer {API_KEY}"}) as c:
            r = c.post("/v1/chat/completions", json={"model": MODEL, "messages": HELLO, "max_tokens": 100, "n": 2})
            with lock:
                statuses.append(r.status_code)

    threads = [threading.Thread(target=one) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert 503 in statuses and 200 in statuses, statuses
