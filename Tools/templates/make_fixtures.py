#!/usr/bin/env python3
"""Regenerates the chat-template fixtures in Tests/Fixtures/templates/ with jinja2 set up the way
HF `apply_chat_template` sets it up (transformers `utils/chat_template_utils.py`):
ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True) + loopcontrols + the
`generation` tag, HF's `tojson` (json.dumps, ensure_ascii=False), `raise_exception`,
`strftime_now`. The Swift tests render the same inputs and must match byte for byte.

    pip install -r Tools/templates/requirements.txt
    python3 Tools/templates/make_fixtures.py

Outputs (all UTF-8 JSON):
  jinja_cases.json   small templates probing jinja2/Python semantics (output or error)
  chat_cases.json    real chat templates (GLM-4.5/4.6/4.7-Flash, Qwen3, Llama 3.2) on chosen inputs
  random_glm45.json  ~200 seeded random conversations for GLM-4.5 (plus some for 4.6/4.7)
Case modes: "variables" renders exactly `variables`; "openai" first applies `normalize` (mirror of
Swift `ChatInput.normalize`) to an OpenAI-format request, then renders like HF.
"""
import datetime
import json
import pathlib
import random
import sys

import jinja2
from jinja2 import nodes
from jinja2.ext import Extension, loopcontrols
from jinja2.sandbox import ImmutableSandboxedEnvironment

assert jinja2.__version__ == "3.1.6", f"pinned jinja2 3.1.6, found {jinja2.__version__}"

ROOT = pathlib.Path(__file__).resolve().parents[2]
SHARED = ROOT.parent / "shared"
FIX = ROOT / "Tests" / "Fixtures" / "templates"
# strftime_now is pinned so outputs are reproducible; the Swift test uses the same local time.
FIXED_NOW = datetime.datetime(2024, 7, 26, 9, 30, 0)


class GenerationTag(Extension):
    """HF's AssistantTracker tag, without the index tracking: renders its body."""
    tags = {"generation"}

    def parse(self, parser):
        lineno = next(parser.stream).lineno
        body = parser.parse_statements(["name:endgeneration"], drop_needle=True)
        return nodes.CallBlock(self.call_method("_render"), [], [], body).set_lineno(lineno)

    def _render(self, caller):
        return caller()


def make_env():
    env = ImmutableSandboxedEnvironment(trim_blocks=True, lstrip_blocks=True, extensions=[GenerationTag, loopcontrols])

    def tojson(x, ensure_ascii=False, indent=None, separators=None, sort_keys=False):
        return json.dumps(x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys)

    def raise_exception(message):
        raise jinja2.exceptions.TemplateError(message)

    env.filters["tojson"] = tojson
    env.globals["raise_exception"] = raise_exception
    env.globals["strftime_now"] = lambda fmt: FIXED_NOW.strftime(fmt)
    return env


ENV = make_env()


def template_text(tid):
    if tid == "glm-4.5":
        return (SHARED / "glm45" / "chat_template.jinja").read_text(encoding="utf-8")
    return (FIX / "templates" / f"{tid}.jinja").read_text(encoding="utf-8")


def render(source, variables):
    """Returns {"expected": text} or {"error": kind} (kind: syntax / render)."""
    try:
        tmpl = ENV.from_string(source)
    except jinja2.TemplateSyntaxError as e:
        return {"error": "syntax", "error_line": e.lineno}
    except Exception:  # TemplateAssertionError (unknown filter/test) is raised at compile time too
        return {"error": "syntax"}
    try:
        return {"expected": tmpl.render(**variables)}
    except Exception as e:
        return {"error": "render", "error_type": type(e).__name__}


# ---------------------------------------------------------------- OpenAI input normalisation

def norm_content(c):
    if c is None:
        return ""
    if isinstance(c, list):
        text = ""
        for p in c:
            if isinstance(p, str):
                text += p
            elif isinstance(p, dict) and p.get("type") == "text" and isinstance(p.get("text"), str):
                text += p["text"]
            else:
                return c
        return text
    return c


def norm_args(a):
    if not isinstance(a, str):
        return a
    if a.strip() == "":
        return {}
    v = json.loads(a)
    assert isinstance(v, dict)
    return v


def norm_call(c):
    c = dict(c)
    if isinstance(c.get("function"), dict):
        f = dict(c["function"])
        if "arguments" in f:
            f["arguments"] = norm_args(f["arguments"])
        c["function"] = f
    elif "arguments" in c:
        c["arguments"] = norm_args(c["arguments"])
    return c


def drop_nulls(tool):
    if not isinstance(tool, dict):
        return tool
    out = {}
    for k, v in tool.items():
        if v is None:
            continue
        if k == "function" and isinstance(v, dict):
            v = {fk: fv for fk, fv in v.items() if fv is not None}
        out[k] = v
    return out


def normalize(messages, tools):
    out = []
    for m in messages:
        m = dict(m)
        if "content" in m:
            m["content"] = norm_content(m["content"])
        if isinstance(m.get("tool_calls"), list):
            m["tool_calls"] = [norm_call(c) for c in m["tool_calls"]]
        out.append(m)
    return out, (None if tools is None else [drop_nulls(t) for t in tools])


def openai_case(name, tid, messages, tools=None, gen=True, extra=None):
    msgs, tls = normalize(messages, tools)
    variables = dict(extra or {})
    variables.update(messages=msgs, tools=tls, documents=None, add_generation_prompt=gen)
    case = {"name": name, "template": tid, "mode": "openai", "messages": messages, "add_generation_prompt": gen,
            "extra": extra or {}}
    if tools is not None:
        case["tools"] = tools
    case.update(render(template_text(tid), variables))
    return case


def variables_case(name, tid, variables):
    case = {"name": name, "template": tid, "mode": "variables", "variables": variables}
    case.update(render(template_text(tid), variables))
    return case


sys.path.insert(0, str(pathlib.Path(__file__).resolve().parent))
from fixture_inputs import chat_inputs, jinja_probes, nai_tok_inputs, random_conversation  # noqa: E402


def main():
    # 1. Interpreter probes.
    probes = []
    for name, src, variables in jinja_probes():
        probes.append({"name": name, "template": src, "variables": variables, **render(src, variables)})

    # 2. Real templates on chosen inputs, plus the nai-tok snapshots that match the official template.
    chat = []
    for spec in chat_inputs():
        chat.append(openai_case(**spec))
    snap_dir = SHARED / "glm45" / "golden" / "nai-tok"
    for snap, messages, thinking, gen in nai_tok_inputs():
        extra = {} if thinking else {"enable_thinking": False}
        case = openai_case("nai-tok " + snap, "glm-4.5", messages, gen=gen, extra=extra)
        text = (snap_dir / snap).read_text(encoding="utf-8")
        golden = text.split("---\n", 2)[2][:-1]  # insta header, then one added newline
        assert case.get("expected") == golden, f"nai-tok {snap}: jinja2 disagrees with the snapshot"
        case["nai_tok"] = snap
        chat.append(case)

    # 3. Seeded random conversations.
    rng = random.Random(20250801)
    rand = []
    for i in range(200):
        rand.append(random_case(rng, f"glm-4.5 random {i}", "glm-4.5"))
    for tid in ("glm-4.6", "glm-4.7-flash"):
        for i in range(40):
            rand.append(random_case(rng, f"{tid} random {i}", tid))

    for fname, data in (("jinja_cases.json", probes), ("chat_cases.json", chat), ("random_glm45.json", rand)):
        (FIX / fname).write_text(json.dumps(data, ensure_ascii=False, indent=1) + "\n", encoding="utf-8")
        print(f"{fname}: {len(data)} cases, {sum('error' in c for c in data)} expect errors")


def random_case(rng, name, tid):
    openai = rng.random() < 0.5
    messages, tools, gen, extra = random_conversation(rng, openai)
    if openai:
        return openai_case(name, tid, messages, tools=tools, gen=gen, extra=extra)
    variables = dict(extra)
    variables.update(messages=messages, add_generation_prompt=gen)
    if tools is not None or rng.random() < 0.5:
        variables["tools"] = tools
    return variables_case(name, tid, variables)


if __name__ == "__main__":
    main()
