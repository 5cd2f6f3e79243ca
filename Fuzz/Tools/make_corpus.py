#!/usr/bin/env python3
"""Writes the seed corpora under Fuzz/Corpus/<harness>/ from the repository's fixtures, ../shared's goldens (when
present) and hand-written hostile cases. Deterministic; run from anywhere:

    python3 Fuzz/Tools/make_corpus.py

Each file is small (libFuzzer takes -max_len from the largest seed). Input formats are the
harnesses' own (see each harness's doc comment)."""
import hashlib
import json
import os
import shutil
import struct

FUZZ = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
REPO = os.path.dirname(FUZZ)
SHARED = os.path.join(os.path.dirname(REPO), "shared")
MAX_SEED = 8192


def load(path):
    with open(path, encoding="utf-8") as f:
        return json.load(f)


class Corpus:
    def __init__(self, root, harness):
        self.dir = os.path.join(FUZZ, root, harness)
        shutil.rmtree(self.dir, ignore_errors=True)
        os.makedirs(self.dir)
        self.names = set()

    def add(self, name, data):
        if isinstance(data, str):
            data = data.encode("utf-8", "surrogatepass")
        if len(data) > MAX_SEED:
            return
        safe = "".join(c if c.isalnum() or c in "-_." else "_" for c in name)[:60]
        if safe in self.names:
            safe += "-" + hashlib.sha1(data).hexdigest()[:8]
        self.names.add(safe)
        with open(os.path.join(self.dir, safe), "wb") as f:
            f.write(data)


def dumps(v, **kw):
    return json.dumps(v, ensure_ascii=False, **kw)


# ---------------------------------------------------------------- FuzzJSON
def json_corpus():
    c = Corpus("Corpus", "FuzzJSON")
    for name in ["config.json", "generation_config.json"]:
        c.add("demo-" + name, open(os.path.join(REPO, "Sources/DemoModel/glm-4.5-demo", name), "rb").read())
    if os.path.isdir(os.path.join(SHARED, "glm45")):
        c.add("glm45-config.json", open(os.path.join(SHARED, "glm45/config.json"), "rb").read())
        for f in sorted(os.listdir(os.path.join(SHARED, "glm45/golden/rendered"))):
            if f.endswith(".input.json"):
                c.add("golden-" + f, open(os.path.join(SHARED, "glm45/golden/rendered", f), "rb").read())
    schemas = load(os.path.join(REPO, "Tests/Fixtures/constraints/json_schema_cases.json"))["schemas"]
    for name, s in schemas.items():
        c.add("schema-" + name, dumps(s, indent=1))
    hostile = {
        "empty-object": "{}", "empty-array": "[]", "scalars": '[null, true, false, 0, -0, 1.5, -2e-308, 1e308, "s"]',
        "nan-inf": "[NaN, Infinity, -Infinity]", "overflow-float": "[1e999, -1e999, 1e-999]",
        "bigint": "[123456789012345678901234567890, -9223372036854775809, 9223372036854775807, -9223372036854775808]",
        "int-vs-float": '{"a": 2, "b": 2.0, "c": 2e0, "d": 20E-1}',
        "duplicate-keys": '{"a": 1, "b": 2, "a": 3}',
        "escapes": r'["\"\\\/\b\f\n\r\t", "\u0000\u001f\u00e9\u4e2d", "\ud83d\ude00", "\ud800", "\udc00x", "\ud800\u0041"]',
        "unicode-raw": '{"日本": "é😀", "e\u0301": "\u2028\u2029"}',
        "deep-511": "[" * 511 + "]" * 511, "deep-513": "[" * 513 + "]" * 513,
        "deep-objects": '{"a":' * 300 + "1" + "}" * 300,
        "trailing-comma": "[1, 2,]", "leading-zero": "[01]", "bad-escape": r'["\x"]', "unterminated": '{"a": "b',
        "whitespace": " \t\r\n[ 1 ,\t2 ]\n", "bom": "\ufeff{}", "control-in-string": '["a\tb"]',
        "python-repr": "{'a': None, 'b': True}", "ws-only": "   ", "minus-alone": "-", "lone-exponent": "1e", "dot": "1.",
    }
    for k, v in hostile.items():
        c.add(k, v)
    c.add("invalid-utf8", b'["\xff\xfe", "\xc3", "\xed\xa0\x80"]')
    c.add("nul-byte", b'["a\x00b"]')


# ---------------------------------------------------------------- FuzzSchema
def schema_corpus():
    c = Corpus("Corpus", "FuzzSchema")
    data = load(os.path.join(REPO, "Tests/Fixtures/constraints/json_schema_cases.json"))
    schemas = data["schemas"]
    seen = {}
    for case in data["cases"]:
        k = (case["schema"], case["valid"])
        if seen.get(k, 0) >= 1:
            continue
        seen[k] = seen.get(k, 0) + 1
        body = dumps(schemas[case["schema"]]).encode() + b"\x00"
        valid = "valid" if case["valid"] else "invalid"
        # Feed the case's text (options bit 1), thinking off, and once with choices.
        c.add(f"{case['schema']}-{valid}-{seen[k]}-text", body + b"\x02" + case["text"].encode())
        if seen[k] == 1 and case["valid"]:
            c.add(f"{case['schema']}-choices", body + b"\x00" + bytes(range(0, 250, 7)))
            c.add(f"{case['schema']}-reasoning", body + b"\x03" + "</think>".encode() + case["text"].encode())
    extra = {
        "true": (True, "[1, {}]"), "any": ({}, '{"a": [1.5e3, null, "x"]}'),
        "int-bounds": ({"type": "integer", "minimum": -5, "exclusiveMaximum": 100}, "-5"),
        "int-draft4": ({"type": "integer", "minimum": 3, "exclusiveMinimum": True, "maximum": 9.5}, "4"),
        "string-lengths": ({"type": "string", "minLength": 2, "maxLength": 3}, '"\\ud83d\\ude00é"'),
        "nullable": ({"type": "string", "nullable": True}, "null"),
        "enum-mixed": ({"enum": [1, "a", None, [1, 2], {"k": "v"}, 1.5]}, '{"k":"v"}'),
        "additional-schema": ({"type": "object", "properties": {"a": {"type": "integer"}}, "additionalProperties": {"type": "string"}}, '{"a": 1, "b": "c"}'),
        "array-bounds": ({"type": "array", "items": {"type": "boolean"}, "minItems": 1, "maxItems": 2}, "[true, false]"),
        "defs-recursive": ({"$defs": {"n": {"type": "object", "properties": {"next": {"$ref": "#/$defs/n"}}}}, "$ref": "#/$defs/n"}, '{"next": {"next": {}}}'),
        "definitions": ({"definitions": {"x": {"type": "number"}}, "type": "array", "items": {"$ref": "#/definitions/x"}}, "[1, 2.5]"),
        "escaped-pointer": ({"$defs": {"a/b": {"const": 1}, "c~d": {"const": 2}}, "anyOf": [{"$ref": "#/$defs/a~1b"}, {"$ref": "#/$defs/c~0d"}]}, "2"),
        "key-escapes": ({"type": "object", "properties": {"a\"b": {"type": "null"}, "é": {"type": "null"}}, "required": ["a\"b"]}, '{"a\\"b": null}'),
        "allof-one": ({"allOf": [{"type": "integer"}]}, "12"),
        "type-list": ({"type": ["array", "object", "number"]}, "[]"),
        "unsupported-not": ({"not": {}}, "1"), "false-schema": (False, "1"), "bad-ref": ({"$ref": "http://x"}, "1"),
        "bad-type": ({"type": "bogus"}, "1"), "min-over-max": ({"type": "string", "minLength": 5, "maxLength": 2}, '""'),
        "huge-float-bound": ({"type": "integer", "maximum": 1e300}, "1"),
        "no-integer": ({"type": "integer", "minimum": 1.2, "maximum": 1.8}, "1"),
    }
    for name, (schema, text) in extra.items():
        c.add(name, dumps(schema).encode() + b"\x00\x02" + text.encode())


# ---------------------------------------------------------------- templates
def template_corpora():
    render = Corpus("Corpus", "FuzzTemplateRender")
    source = Corpus("Corpus", "FuzzTemplateSource")
    fixtures = os.path.join(REPO, "Tests/Fixtures/templates")
    for case in load(os.path.join(fixtures, "chat_cases.json"))[::2]:
        body = {"messages": case["messages"]}
        if case.get("tools"):
            body["tools"] = case["tools"]
        if case.get("extra"):
            body["chat_template_kwargs"] = case["extra"]
        opts = 0 if case.get("add_generation_prompt", True) else 1
        if case["template"] != "glm-4.5":
            opts |= 0x30 | ({"glm-4.6": 1, "glm-4.7-flash": 2, "qwen3": 3, "llama-3.2": 4}[case["template"]] << 6) & 0xC0
        render.add("chat-" + case["name"], bytes([opts & 0xFF]) + dumps(body).encode())
    for i, case in enumerate(load(os.path.join(fixtures, "random_glm45.json"))[:12]):
        v = case.get("variables") or {"messages": case.get("messages", []), "tools": case.get("tools"),
                                      "add_generation_prompt": case.get("add_generation_prompt", True), **(case.get("extra") or {})}
        body = {"messages": v.get("messages", []), "tools": v.get("tools"),
                "chat_template_kwargs": {k: x for k, x in v.items() if k not in ("messages", "tools", "add_generation_prompt")}}
        opts = 0 if v.get("add_generation_prompt", True) else 1
        render.add(f"random-{i}", bytes([opts]) + dumps(body).encode())
    for case in load(os.path.join(fixtures, "continue_final_message.json"))["cases"][:6]:
        msgs = case.get("messages") or case.get("variables", {}).get("messages")
        if msgs:
            render.add("continue-" + case.get("name", "x"), b"\x03" + dumps({"messages": msgs}).encode())
    rendered = os.path.join(SHARED, "glm45/golden/rendered")
    if os.path.isdir(rendered):
        for f in sorted(os.listdir(rendered)):
            if f.endswith(".input.json"):
                v = load(os.path.join(rendered, f))
                body = {"messages": v.get("messages", []), "tools": v.get("tools"),
                        "chat_template_kwargs": {k: x for k, x in v.items() if k not in ("messages", "tools", "add_generation_prompt")}}
                render.add("golden-" + f, bytes([0 if v.get("add_generation_prompt", True) else 1]) + dumps(body).encode())
    hostile = [
        ("raw-text-roles", b"\x00system text\x00hello\x00<think>x</think>answer\x00{\"temp\": 1}"),
        ("raw-tags", b"\x04<|user|>\x00<|assistant|><tool_call>f\n<arg_key>a</arg_key>\x00{{ 7*7 }}{% raw %}"),
        ("bad-tool-args", b'\x00{"messages": [{"role": "assistant", "tool_calls": [{"function": {"name": "f", "arguments": "[1"}}]}]}'),
        ("args-not-object", b'\x00{"messages": [{"role": "assistant", "tool_calls": [{"function": {"name": "f", "arguments": "5"}}]}]}'),
        ("tool-call-no-function", b'\x00{"messages": [{"role": "assistant", "tool_calls": [{"arguments": {"a": 1}}, 5, null]}]}'),
        ("content-parts", b'\x00{"messages": [{"role": "user", "content": [{"type": "text", "text": "a"}, {"type": "image_url"}]}]}'),
        ("content-types", b'\x08{"messages": [{"role": "user", "content": 5}, {"role": "user", "content": {"a": 1}}, {"role": "user"}, {"content": "x"}]}'),
        ("role-weird", b'\x00{"messages": [{"role": null, "content": "x"}, {"role": "developer", "content": "y"}, {"role": "", "content": ""}]}'),
        ("tools-weird", b'\x00{"messages": [{"role": "user", "content": "x"}], "tools": [5, {"type": "function"}, {"function": null}, {"function": {"name": 7, "parameters": "x"}}]}'),
        ("reasoning-content", b'\x08{"messages": [{"role": "assistant", "content": "a</think>b", "reasoning_content": 5}]}'),
        ("continue-final", b'\x03{"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "  partial  "}]}'),
        ("continue-empty", b'\x02{"messages": []}'), ("empty", b"\x00[]"),
        ("kwargs", b'\x00{"messages": [{"role": "user", "content": "x"}], "chat_template_kwargs": {"enable_thinking": "no", "tools": 5, "messages": null}}'),
        ("nested-content", b'\x00[{"role": "user", "content": ' + b"[" * 100 + b"]" * 100 + b"}]"),
    ]
    for name, data in hostile:
        render.add(name, data)

    for case in load(os.path.join(fixtures, "jinja_cases.json"))[::3]:
        source.add("jinja-" + hashlib.sha1(case["template"].encode()).hexdigest()[:10], case["template"])
    for f in sorted(os.listdir(os.path.join(fixtures, "templates"))):
        source.add(f, open(os.path.join(fixtures, "templates", f), "rb").read())
    source.add("glm-4.5.jinja", open(os.path.join(REPO, "Sources/DemoModel/glm-4.5-demo/chat_template.jinja"), "rb").read())
    hostile_sources = {
        "macro-recursion": "{% macro f(n) %}{{ f(n) }}{% endmacro %}{{ f(1) }}",
        "loop-forever": "{% for i in range(1000000) %}{% for j in range(1000000) %}x{% endfor %}{% endfor %}",
        "string-repeat": "{{ 'x' * 100000000 }}", "list-repeat": "{{ [1] * 100000000 }}",
        "deep-parens": "{{ " + "(" * 300 + "1" + ")" * 300 + " }}",
        "deep-if": "{% if true %}" * 200 + "{% endif %}" * 200,
        "unclosed": "{% if x %}{% for a in b %}", "bad-tag": "{% bogus %}", "raw": "{% raw %}{{ x }}{% endraw %}",
        "whitespace-control": "{%- if true -%}  a  {%+ endif -%}{{- 1 -}}{#- c -#}",
        "filters": "{{ messages | tojson(indent=2) }}{{ 'a,b' | split(',') | join('-') | upper | replace('A', 'b') }}{{ x | default('d') | length }}",
        "slices": "{{ 'abcdef'[::-1] }}{{ l[1:][0][-1] }}{{ s[10:2:-3] }}",
        "format": "{{ '%s %d %05.2f %r %%' % ('a', 3, 2.5, none) }}{{ '{} {x}'.format(1, x=2) }}",
        "namespace": "{% set ns = namespace(a=1) %}{% for m in messages %}{% set ns.a = ns.a + 1 %}{% endfor %}{{ ns.a }}",
        "raise": "{{ raise_exception('boom') }}", "strftime": "{{ strftime_now('%Y-%m-%d %H:%M:%S %a %b %j %%') }}",
        "dict-methods": "{% for k, v in o.items() %}{{ k }}={{ v }}{% endfor %}{{ o.get('z', 9) }}{{ o.keys() | list }}",
        "tests": "{{ x is defined }}{{ n is number }}{{ s is string }}{{ l is iterable }}{{ n is divisibleby 0 }}",
        "arith": "{{ n // 0 }}", "arith2": "{{ n % 0 }}{{ 2 ** 1000 }}{{ -n ** 0.5 }}{{ big + 1 }}{{ big * big }}",
        "loop-vars": "{% for m in messages %}{{ loop.index }}{{ loop.revindex0 }}{{ loop.first }}{{ loop.last }}{{ loop.cycle('a','b') }}{{ loop.previtem }}{% endfor %}",
        "loop-else": "{% for x in [] %}x{% else %}empty{% endfor %}{% for x in l if x %}{% break %}{% endfor %}",
        "set-block": "{% set b %}inner{{ n }}{% endset %}{{ b | trim }}",
        "call-block": "{% macro m() %}[{{ caller() }}]{% endmacro %}{% call m() %}c{% endcall %}",
        "filter-block": "{% filter upper %}abc{% endfilter %}",
        "string-escapes": "{{ '\\n\\t\\u00e9\\x41\\\\' }}{{ \"a'b\" }}", "unterminated-string": "{{ 'abc }}",
        "comment-unclosed": "{# never closed", "expr-unclosed": "{{ 1 + ", "tuple-unpack": "{% for a, (b, c) in [[1, [2, 3]]] %}{{ a }}{{ b }}{{ c }}{% endfor %}",
        "getattr-chain": "{{ messages[0].content.upper().strip().split()[0] }}{{ nan | int }}{{ 'x' | int }}{{ '1e3' | float }}",
        "in-op": "{{ 'a' in 'abc' }}{{ 1 in l }}{{ 'k' in o }}{{ 1 not in none }}",
        "concat": "{{ 'a' ~ 1 ~ none ~ [1] }}{{ l + l }}{{ o + o }}",
        "json-keys": "{{ tools | tojson }}{{ o | dictsort }}{{ l | map('string') | list }}{{ messages | selectattr('role', 'equalto', 'user') | list | length }}",
    }
    for k, v in hostile_sources.items():
        source.add(k, v)


# ---------------------------------------------------------------- FuzzSafetensors
def safetensors(header, data=b"", length=None):
    h = header if isinstance(header, bytes) else json.dumps(header).encode()
    return struct.pack("<Q", len(h) if length is None else length) + h + data


def safetensors_corpus():
    c = Corpus("Corpus", "FuzzSafetensors")
    c.add("one-f32", safetensors({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, b"\x00" * 8))
    c.add("dtypes", safetensors({
        "a": {"dtype": "BF16", "shape": [2, 2], "data_offsets": [0, 8]}, "b": {"dtype": "F16", "shape": [1], "data_offsets": [8, 10]},
        "c": {"dtype": "I64", "shape": [], "data_offsets": [10, 18]}, "d": {"dtype": "F8_E4M3", "shape": [3], "data_offsets": [18, 21]},
        "e": {"dtype": "U8", "shape": [0], "data_offsets": [21, 21]}, "f": {"dtype": "BOOL", "shape": [1], "data_offsets": [21, 22]},
        "__metadata__": {"format": "pt", "n": 1}}, bytes(range(22))))
    c.add("metadata-only", safetensors({"__metadata__": {"format": "pt"}}))
    c.add("empty-header", safetensors({}))
    c.add("padded-header", safetensors(b'{"w": {"dtype": "U8", "shape": [1], "data_offsets": [0, 1]}}      ', b"\x07"))
    c.add("overlap", safetensors({"a": {"dtype": "U8", "shape": [4], "data_offsets": [0, 4]}, "b": {"dtype": "U8", "shape": [4], "data_offsets": [2, 6]}}, b"\x01" * 6))
    c.add("truncated-data", safetensors({"w": {"dtype": "F32", "shape": [4], "data_offsets": [0, 16]}}, b"\x00" * 8))
    c.add("shape-mismatch", safetensors({"w": {"dtype": "F32", "shape": [3], "data_offsets": [0, 8]}}, b"\x00" * 8))
    c.add("shape-overflow", safetensors({"w": {"dtype": "F32", "shape": [4294967296, 4294967296, 4], "data_offsets": [0, 0]}}))
    c.add("negative-shape", safetensors({"w": {"dtype": "F32", "shape": [-1], "data_offsets": [0, 4]}}, b"\x00" * 4))
    c.add("float-offsets", safetensors({"w": {"dtype": "U8", "shape": [1.5], "data_offsets": [0.0, 1e30]}}, b"\x00"))
    c.add("huge-offsets", safetensors({"w": {"dtype": "U8", "shape": [1], "data_offsets": [9223372036854775807, 9223372036854775807]}}))
    c.add("bad-dtype", safetensors({"w": {"dtype": "Q4_K", "shape": [1], "data_offsets": [0, 1]}}, b"\x00"))
    c.add("not-object", safetensors(b"[1, 2, 3]"))
    c.add("not-json", safetensors(b"\xff\xfe{"))
    c.add("header-too-long", safetensors(b"{}", length=1000))
    c.add("header-zero", safetensors(b"", length=0))
    c.add("short-file", b"\x01\x00\x00")
    c.add("nested-json", safetensors(b'{"a": ' + b"[" * 200 + b"]" * 200 + b"}"))
    for d in sorted(os.listdir(os.path.join(REPO, "Tests/Fixtures/models"))):
        path = os.path.join(REPO, "Tests/Fixtures/models", d, "model.safetensors")
        if os.path.exists(path):
            raw = open(path, "rb").read()
            n = struct.unpack("<Q", raw[:8])[0]
            header = json.loads(raw[8:8 + n])
            # Keep the header's shapes, shrink to tensors whose data fits in a seed.
            small, data = {}, b""
            for name, t in header.items():
                if name == "__metadata__":
                    small[name] = t
                    continue
                b, e = t["data_offsets"]
                if e - b <= 256 and len(data) + e - b <= 2048:
                    small[name] = dict(t, data_offsets=[len(data), len(data) + e - b])
                    data += raw[8 + n + b:8 + n + e]
            c.add("fixture-" + d, safetensors(small, data))


# ---------------------------------------------------------------- FuzzOutputParsers
def output_corpus():
    c = Corpus("Corpus", "FuzzOutputParsers")
    texts = {
        "plain": "Hello there.", "think": "<think>Let me think.</think>\n\nThe answer is 4.",
        "think-unclosed": "<think>still thinking", "think-empty": "<think></think>answer",
        "tool-call": "<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Paris</arg_value>\n<arg_key>days</arg_key>\n<arg_value>2</arg_value>\n</tool_call>",
        "think-then-tool": "<think>need weather</think><tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>日本</arg_value>\n</tool_call>",
        "two-calls": "Sure.<tool_call>search\n<arg_key>query</arg_key>\n<arg_value>a</arg_value>\n</tool_call><tool_call>search\n<arg_key>query</arg_key>\n<arg_value>b</arg_value>\n</tool_call>",
        "typed-args": "<tool_call>get_weather\n<arg_key>temp</arg_key>\n<arg_value>-1.5e3</arg_value>\n<arg_key>hourly</arg_key>\n<arg_value>true</arg_value>\n<arg_key>options</arg_key>\n<arg_value>{\"unit\": \"c\"}</arg_value>\n<arg_key>tags</arg_key>\n<arg_value>[\"a\", 1]</arg_value>\n<arg_key>note</arg_key>\n<arg_value>null</arg_value>\n<arg_key>level</arg_key>\n<arg_value>2</arg_value>\n<arg_key>maybe</arg_key>\n<arg_value>x</arg_value>\n</tool_call>",
        "bad-json-arg": "<tool_call>get_weather\n<arg_key>options</arg_key>\n<arg_value>{\"a\": [1</arg_value>\n</tool_call>",
        "unknown-tool": "<tool_call>no_such_tool\n<arg_key>x</arg_key>\n<arg_value>1</arg_value>\n</tool_call>",
        "truncated-call": "<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_val",
        "nested-tags": "<tool_call><tool_call>search\n<arg_key><arg_key>q</arg_key></arg_key>\n<arg_value></arg_value></arg_value>\n</tool_call></tool_call>",
        "no-newline-name": "<tool_call>search<arg_key>query</arg_key><arg_value>x</arg_value></tool_call>",
        "duplicate-key": "<tool_call>search\n<arg_key>query</arg_key>\n<arg_value>a</arg_value>\n<arg_key>query</arg_key>\n<arg_value>b</arg_value>\n</tool_call>",
        "tool-in-think": "<think><tool_call>search\n</tool_call></think>after",
        "close-think-only": "answer</think>more", "stray-tags": "</tool_call></arg_value><arg_key>",
        "escapes": "<tool_call>search\n<arg_key>query</arg_key>\n<arg_value>\\n\"quoted\" \\u00e9 é😀e\u0301\r\n</arg_value>\n</tool_call>",
        "whitespace": " \n\t\u3000\u2028 <think> \n </think> \n ", "empty": "",
        "partial-open": "text <tool_ca", "partial-think": "<thi", "cjk": "天気は<think>考える</think>晴れ",
    }
    for i, (name, t) in enumerate(texts.items()):
        opts = [0, 1, 2, 4, 8, 16, 24][i % 7]
        cuts = [(j * 7 + i) % 40 for j in range(i % 5)]
        head = bytes([opts, len(cuts)]) + b"".join(struct.pack(">H", x) for x in cuts)
        c.add(name, head + t.encode())
    c.add("invalid-utf8", b"\x00\x01\x00\x03<tool_call>search\n<arg_key>q\xff</arg_key>\n<arg_value>\xc3</arg_value>")


# ---------------------------------------------------------------- FuzzRequests
def requests_corpus():
    c = Corpus("Corpus", "FuzzRequests")
    chat = [
        {"model": "glm-4.5", "messages": [{"role": "user", "content": "Hello"}]},
        {"messages": [{"role": "system", "content": "s"}, {"role": "user", "content": [{"type": "text", "text": "hi"}]}],
         "max_tokens": 5, "temperature": 0.7, "top_p": 0.9, "top_k": 20, "min_p": 0.1, "seed": 42, "stop": ["\n", "END"],
         "stream": True, "stream_options": {"include_usage": True}, "n": 2, "logprobs": True, "top_logprobs": 5},
        {"messages": [{"role": "user", "content": "w"}], "tools": [{"type": "function", "function": {"name": "get_weather",
         "description": "d", "parameters": {"type": "object", "properties": {"city": {"type": "string"}}}}}],
         "tool_choice": {"type": "function", "function": {"name": "get_weather"}}, "parallel_tool_calls": False},
        {"messages": [{"role": "assistant", "content": None, "tool_calls": [{"id": "c1", "type": "function",
         "function": {"name": "f", "arguments": "{\"a\": 1}"}}]}, {"role": "tool", "tool_call_id": "c1", "content": "ok"}],
         "tool_choice": "required"},
        {"messages": [{"role": "user", "content": "j"}], "response_format": {"type": "json_schema", "json_schema": {"name": "x",
         "schema": {"type": "object", "properties": {"a": {"type": "integer"}}}, "strict": True}}},
        {"messages": [{"role": "user", "content": "j"}], "response_format": {"type": "json_object"}, "chat_template_kwargs": {"enable_thinking": False},
         "separate_reasoning": False, "skip_special_tokens": False, "continue_final_message": True, "add_generation_prompt": False},
        {"messages": [{"role": "user", "content": "x"}], "presence_penalty": 2, "frequency_penalty": -2, "repetition_penalty": 1.1,
         "stop_token_ids": [1, 2], "logit_bias": {"5": -100}, "max_completion_tokens": 3},
    ]
    for i, b in enumerate(chat):
        c.add(f"chat-{i}", b"\x00" + dumps(b).encode())
    completions = [{"prompt": "Once", "max_tokens": 3}, {"prompt": ["a", "b"], "echo": True, "logprobs": 2, "suffix": "s"},
                   {"prompt": [1, 2, 3]}, {"prompt": [[1], [2, 3]], "stream": True}]
    for i, b in enumerate(completions):
        c.add(f"completion-{i}", b"\x01" + dumps(b).encode())
    c.add("tokenize", b'\x02{"model": "m", "prompt": "hello", "add_special_tokens": false}')
    c.add("tokenize-messages", b'\x02{"messages": [{"role": "user", "content": "x"}]}')
    c.add("detokenize", b'\x03{"tokens": [1, 2, 3]}')
    hostile = [
        (0, '{"messages": [{"role": "user", "content": "hi"}], "max_tokens": 1e999}'),
        (0, '{"messages": [{"role": "user", "content": "hi"}], "max_tokens": 1.5}'),
        (0, '{"messages": [{"role": "user", "content": "hi"}], "n": 99999999999999999999999}'),
        (0, '{"messages": [{"role": "user", "content": "hi"}], "seed": -99999999999999999999}'),
        (0, '{"messages": null, "tools": null, "tool_choice": null}'),
        (0, '{"messages": [{"role": "user", "content": "\\ud800"}]}'),
        (0, '{"messages": [{"role": "user", "content": "a\\u0000b"}]}'),
        (0, '{"messages": [{"role": "user", "content": ' + "[" * 600 + "]" * 600 + "}]}"),
        (0, '{"messages": [{"role": "user", "content": "hi"}], "chat_template_kwargs": ' + '{"x":' * 300 + "1" + "}" * 300 + "}"),
        (0, '{"messages": [{"role": "user", "content": 5}], "tool_choice": "bogus", "stop": 5}'),
        (0, '{"messages": [], "tools": [{"type": "function", "function": {"name": "f", "parameters": 5}}]}'),
        (0, '{"messages": [{"role": "user", "content": [{"type": "image_url", "image_url": {"url": "x"}}, 7]}]}'),
        (0, '{"messages": [{"role": "user", "content": "x"}], "response_format": {"type": "json_schema", "json_schema": {"name": "x", "schema": {"$ref": "#"}}}}'),
        (0, '{"messages": [{"role": "user", "content": "x"}], "temperature": NaN, "top_p": Infinity}'),
        (0, '\ufeff{"messages": [{"role": "user", "content": "x"}]}'), (0, "[]"), (0, "null"), (0, '"x"'),
        (0, '{"messages": [{"role": "user", "content": "x"}], "messages": 5}'),
        (1, '{"prompt": [1, "a", [2]], "max_tokens": -1, "logprobs": 99999999999}'),
        (1, '{"prompt": [[[1]]]}'), (3, '{"tokens": [-1, 9223372036854775807, 1e3]}'), (3, '{"tokens": "x"}'),
        (2, '{"prompt": null, "messages": null}'),
    ]
    for i, (route, body) in enumerate(hostile):
        c.add(f"hostile-{i}", bytes([route]) + body.encode("utf-8", "surrogatepass"))


if __name__ == "__main__":
    json_corpus()
    schema_corpus()
    template_corpora()
    safetensors_corpus()
    output_corpus()
    requests_corpus()
    for root in ["Corpus"]:
        for h in sorted(os.listdir(os.path.join(FUZZ, root))):
            n = len(os.listdir(os.path.join(FUZZ, root, h)))
            print(f"{root}/{h}: {n} files")
