"""/v1/completions, /tokenize, /detokenize, /metrics."""

from conftest import MODEL, metric


def test_text_prompt(client, golden):
    c = golden["no_thinking"]
    r = client.completions.create(model=MODEL, prompt=c["prompt"], temperature=0, max_tokens=50)
    assert r.object == "text_completion" and r.id.startswith("cmpl-")
    assert r.choices[0].text == "\nThe answer is 4."
    assert r.choices[0].finish_reason == "stop"
    assert r.usage.prompt_tokens == len(c["prompt_ids"])
    assert r.usage.completion_tokens == len(c["completion_ids"])


def test_token_prompt_and_default_max_tokens(client, golden):
    c = golden["reasoning"]
    r = client.completions.create(model=MODEL, prompt=c["prompt_ids"], temperature=0)
    assert r.usage.completion_tokens == 16  # OpenAI's default max_tokens for completions
    assert r.choices[0].finish_reason == "length"
    assert r.choices[0].text.startswith("\n<think>Two plus two")


def test_several_prompts_and_n(client):
    r = client.completions.create(model=MODEL, prompt=["Hello", "Once upon a time"], n=2, max_tokens=3, temperature=1.0, seed=1)
    assert [c.index for c in r.choices] == [0, 1, 2, 3]


def test_streaming_with_stop_and_usage(client, golden):
    c = golden["no_thinking"]
    stream = client.completions.create(model=MODEL, prompt=c["prompt"], temperature=0, max_tokens=50, stream=True,
                                       stop=["is 4"], stream_options={"include_usage": True})
    text, finish, usage = "", None, None
    for chunk in stream:
        for choice in chunk.choices:
            text += choice.text
            finish = choice.finish_reason or finish
        usage = chunk.usage or usage
    assert text == "\nThe answer "
    assert finish == "stop"
    assert usage.prompt_tokens == len(c["prompt_ids"])


def test_logprobs_and_echo(client, golden):
    c = golden["no_thinking"]
    r = client.completions.create(model=MODEL, prompt=c["prompt"], temperature=0, max_tokens=5, logprobs=2)
    lp = r.choices[0].logprobs
    assert len(lp.tokens) == 5 and len(lp.token_logprobs) == 5
    assert all(len(t) <= 2 for t in lp.top_logprobs)
    assert lp.text_offset[0] == 0
    e = client.completions.create(model=MODEL, prompt="Hello", max_tokens=2, echo=True, temperature=0)
    assert e.choices[0].text.startswith("Hello")


def test_seed_reproducible(client):
    kw = dict(model=MODEL, prompt="Once upon a time", temperature=1.0, max_tokens=12)
    assert client.completions.create(seed=11, **kw).choices[0].text == client.completions.create(seed=11, **kw).choices[0].text


def test_tokenize_detokenize(http, golden):
    c = golden["tool_call"]
    r = http.post("/tokenize", json={"model": MODEL, "messages": c["request"]["messages"], "tools": c["request"]["tools"],
                                     "chat_template_kwargs": {"enable_thinking": False}})
    assert r.status_code == 200
    assert r.json()["tokens"] == c["prompt_ids"]
    assert r.json()["count"] == len(c["prompt_ids"])
    assert r.json()["max_model_len"] == 2048
    d = http.post("/detokenize", json={"tokens": c["prompt_ids"]})
    assert d.json()["prompt"] == c["prompt"]


def test_metrics(client, http):
    client.chat.completions.create(model=MODEL, messages=[{"role": "user", "content": "Hello"}], max_tokens=2)
    text = http.get("/metrics").text
    for name in ["glm:http_requests_total", "glm:prompt_tokens_total", "glm:generation_tokens_total",
                 "glm:time_to_first_token_seconds_bucket", "glm:inter_token_latency_seconds_bucket",
                 "glm:num_queue_reqs", "glm:num_running_reqs", "glm:e2e_request_latency_seconds_count",
                 "glm:token_usage", "glm:cache_hit_rate"]:
        assert name in text, name
    assert 'endpoint="/v1/chat/completions",status="200"' in text
    assert metric(http, "glm:generation_tokens_total") >= 2
