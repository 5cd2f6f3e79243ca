"""Inputs for make_fixtures.py: interpreter probes, chosen chat conversations, the nai-tok inputs
(reconstructed from nai-tok's test descriptions in shared/glm45/README.md), and the random
conversation generator."""
import json

WEATHER_TOOL = {"type": "function", "function": {
    "name": "get_weather", "description": "Get the current weather for a city.",
    "parameters": {"type": "object", "properties": {
        "city": {"type": "string", "description": "City name"},
        "days": {"type": "integer", "minimum": 1},
        "options": {"type": "object", "properties": {
            "unit": {"type": "string", "enum": ["celsius", "fahrenheit"]},
            "hourly": {"type": "boolean"}}},
        "tags": {"type": "array", "items": {"type": "string"}}},
        "required": ["city"]}}}
SEARCH_TOOL = {"type": "function", "function": {
    "name": "search", "description": "Search the web — «quotes» & \"escapes\" \\ too.",
    "parameters": {"type": "object", "properties": {
        "query": {"type": "string"},
        "filters": {"type": "array", "items": {"type": "object", "properties": {
            "field": {"type": "string"}, "value": {"anyOf": [{"type": "string"}, {"type": "number"}]}}}},
        "limit": {"type": ["integer", "null"], "default": None}},
        "required": ["query"]}}}


def jinja_probes():
    """(name, template, variables): jinja2 semantics the interpreter must reproduce."""
    P = []

    def p(src, name=None, **variables):
        P.append((name or src[:60], src, variables))

    # whitespace control, trim_blocks / lstrip_blocks, comments, raw
    p("{% if true %}\n  yes\n{% endif %}\n  {% if true %}x{% endif %}")
    p("a {#c#}\n b\n  {#- c -#}  d")
    p("  {{ 1 }}  {% if true %}\n  {%+ if true %}p{% endif %}\n{% endif +%}\nend")
    p("x  {%- if true -%}  y  {%- endif -%}  z\n\n")
    p("{% raw %}{{ not parsed }}{% endraw %}\n  {%- raw -%}  {% x %}  {%- endraw %}|")
    p("line1\r\nline2\rline3\n")
    p("{% for i in [1,2] %}\n    {{ i }}\n{% endfor %}\n")
    p("{{ '{{' }}{{ '}}' }}{{ {'a': {'b': 1}} }}")
    p("\t{% set x = 1 %}\n\t{{ x }}\n")
    p("{% if true %}   \n{% endif %}a")
    p("{{- ' lead' -}}\n   {#- c #}\n\n  tail")
    # literals and printing
    p("{{ none }} {{ None }} {{ true }} {{ True }} {{ false }}")
    p("{{ 1/2 }} {{ 4/2 }} {{ 7//2 }} {{ -7//2 }} {{ -7 % 3 }} {{ 7 % -3 }} {{ 2**10 }} {{ 2**-1 }} {{ -2**2 }}")
    p("{{ 1e20 }} {{ 1.0e-5 }} {{ 3.0 }} {{ 0.1+0.2 }} {{ 1e16 }} {{ 1e15 }} {{ 123456789.123456789 }} {{ 1_000 }} {{ 0x1F }}")
    p("{{ [1,'a',None,True,2.5,{'k':'v'}] }} {{ 'it''s' }} {{ (1,) }} {{ (1, 'b') }} {{ () }}")
    p('{{ ["it\'s", "a\\"b", "x\\ny", "t\\tq", "\\u00e9\\x41\\101"] }}')
    p("{{ x }}|{{ d }}|{{ l }}", x=1.5, d={"b": 1, "a": [None, True]}, l=["é", "\n"])
    p("{{ 'a' ~ none ~ 1 ~ 1.5 ~ undefinedvar ~ [1] }}")
    # undefined behaviour
    p("{{ x.y }}")
    p("{{ x.y.z }}", x={})
    p("{{ x + 'a' }}")
    p("{{ x | length }} {{ x|list }} {{ x is defined }} {% for a in x %}a{% endfor %}{{ x }}")
    p("{{ x.missing is defined }} {{ x['missing'] is undefined }} {{ x.missing|default('d') }}", x={"a": 1})
    p("{{ y if false }}|{{ (none if false) is none }}|{{ '' or 'z' }}|{{ 0 and 1 }}")
    p("{{ undefinedvar == undefinedvar }} {{ undefinedvar is none }} {{ not undefinedvar }}")
    p("{{ x() }}")
    p("{{ d.items is callable }} {{ d.nope is callable }}", d={"items": 1})
    p("{% if x is nosuchtest %}never{% endif %}{{ 'b' if false and x is nosuchtest2 else 'c' }}")
    p("{{ d['items'] }} {{ d.keys()|list }} {{ d.get('items') }} {{ d.get('zz', 3) }}", d={"items": 1})
    # strings and methods
    p("{{ 'abc'[::-1] }} {{ [1,2,3][-2:] }} {{ 'héllo'[1] }} {{ 'hello'[1:-1] }} {{ [1,2,3,4,5][::2] }} {{ [1,2,3][5:] }}")
    p("{{ 'a b  c'.split() }} {{ 'a,b'.split(',') }} {{ ' x '.strip() }} {{ 'xxaxx'.strip('x') }} {{ 'a,b,c'.split(',', 1) }} {{ 'a,b,c'.rsplit(',', 1) }}")
    p("{{ 'Hello'.startswith('He') }} {{ 'Hello'.endswith(('x', 'lo')) }} {{ 'aXbX'.replace('X', '-') }} {{ 'aXbX'.replace('X', '-', 1) }}")
    p("{{ 'hello world'.title() }} {{ 'hELLO'.capitalize() }} {{ 'AbC'.lower() }}{{ 'AbC'.upper() }} {{ 'abcabc'.find('c') }} {{ 'abcabc'.rfind('c') }} {{ 'abcabc'.count('b') }}")
    p("{{ '\n\nx\n'.lstrip('\n') }}|{{ 'a\r\nb\nc'.splitlines() }}|{{ '-'.join(['a','b']) }}|{{ '{} and {x}'.format(1, x=2) }}")
    p("{{ '%s is %d' % ('x', 3) }} {{ '%5.2f' % 3.14159 }} {{ '%03d|%-4d|' % (7, 8) }} {{ '%.1e' % 12345.678 }} {{ '%r' % 'q' }}")
    p("{{ 'abc' < 'abd' }} {{ [1,2] < [1,3] }} {{ 1 == 1.0 }} {{ true == 1 }} {{ 'a' in 'cat' }} {{ 2 in [1,2] }} {{ 'k' in {'k': 1} }} {{ 3 not in [1] }}")
    p("{{ 1 < 2 < 3 }} {{ 3 > 2 > 2 }} {{ 'a' * 3 }} {{ [0] * 2 }} {{ [1] + [2] }}")
    p("{{ 'a' + 1 }}")
    p("{{ 1 < 'a' }}")
    # filters
    p("{{ [3,1,2]|sort }} {{ ['b','A','c']|sort }} {{ ['b','A','c']|sort(case_sensitive=true) }} {{ [3,1,2]|sort(reverse=true) }}")
    p("{{ {'b':1,'a':2}|dictsort }} {{ {'b':1,'a':2}|dictsort(by='value') }} {{ {'b':1,'a':2}|items|list }}")
    p("{{ [1,2]|tojson }} {{ {'a':[1,{'b':None}]}|tojson(indent=2) }} {{ {'é':'ü'}|tojson }} {{ {'é':'ü'}|tojson(ensure_ascii=True) }}")
    p("{{ {'a': 1, 'b': [1, 2]}|tojson(separators=(',', ':')) }} {{ {'b': 1, 'a': 2}|tojson(sort_keys=true) }} {{ 'x\"\\\\\n'|tojson }} {{ 1.0|tojson }}")
    p("{{ x|tojson }}", x={"n": None, "f": 2.5, "i": 3, "big": 10**15, "e": 1e-7, "s": "\u2028\x01"})
    p("{{ range(3)|list }} {{ range(1,10,3)|list }} {{ range(5,0,-2)|list }} {{ [1,2]|join(',') }} {{ 'abc'|list }} {{ [1,None]|join }}")
    p("{{ range(100001)|length }}")
    p("{{ ' a '|trim }}|{{ 'xax'|trim('x') }}|{{ 'a'|upper }}|{{ 'A B'|lower }}|{{ 'hello world'|title }}|{{ 'hello WORLD'|capitalize }}")
    p("{{ [1,2,3]|first }} {{ [1,2,3]|last }} {{ []|first }}|{{ [1,2,3]|length }} {{ 'abc'|count }} {{ [-3]|map('abs')|list }}")
    p("{{ '42'|int }} {{ '4.7'|int }} {{ 'x'|int }} {{ 'x'|int(7) }} {{ '0x1A'|int(0, 16) }} {{ 3.9|int }} {{ '2.5'|float }} {{ 'a'|float }} {{ true|int }}")
    p("{{ users|map(attribute='name')|join(', ') }} {{ users|selectattr('admin')|map(attribute='name')|list }} {{ users|rejectattr('admin')|list|length }}",
      users=[{"name": "a", "admin": True}, {"name": "b", "admin": False}])
    p("{{ [1,2,3,4]|select('odd')|list }} {{ [1,2,3,4]|reject('even')|list }} {{ [0,1,'',None,'x']|select|list }} {{ [1,2,3]|select('gt', 1)|list }}")
    p("{{ users|selectattr('role', 'equalto', 'x')|list }} {{ users|map(attribute='role', default='none')|list }}",
      users=[{"name": "a", "role": "x"}, {"name": "b"}])
    p("{{ 'a\nb\n\nc'|indent }}|{{ 'a\nb'|indent(2, true) }}|{{ 'a\n\nb\n'|indent(2, blank=true) }}|{{ 'x'|indent('> ', first=true) }}")
    p("{{ [1,2,3]|sum }} {{ [1.5,2]|sum }} {{ [3,1,2]|max }} {{ [3,1,2]|min }} {{ [1,1,2]|unique|list }} {{ [1,2,3]|reverse|list }} {{ 'abc'|reverse }}")
    p("{{ 2.5|round }} {{ 3.5|round }} {{ 2.567|round(2) }} {{ 2.1|round(0, 'ceil') }} {{ 7|round }} {{ -3|abs }} {{ 'a<b>&\"c\\''|e }}")
    p("{{ none|default('d') }} {{ none|default('d', true) }} {{ ''|default('e', true) }} {{ u|d('u') }}")
    p("{{ '%s-%s'|format('a', 'b') }} {{ 'one two  three'|wordcount }} {{ [1,2,3,4,5]|batch(2)|list }} {{ 'x'|string }} {{ none|string }}")
    p("{{ 'a'|nosuchfilter }}")
    p("{% if 1 is nosuchtest %}{% endif %}")
    # tests
    p("{{ {'a':1} is sequence }} {{ 'a' is sequence }} {{ 1 is sequence }} {{ true is number }} {{ 1 is integer }} {{ 1.0 is float }} {{ true is integer }}")
    p("{{ x is mapping }} {{ x is iterable }} {{ 'a' is iterable }} {{ 1 is iterable }} {{ none is none }} {{ 'a' is string }} {{ u is iterable }}", x={})
    p("{{ 4 is divisibleby 2 }} {{ 3 is odd }} {{ 3 is even }} {{ 1 is sameas 1 }} {{ true is true }} {{ 1 is true }} {{ 'A' is upper }} {{ 2 is in [1,2] }}")
    p("{{ 1 is eq 1 }} {{ 1 is ne 2 }} {{ 1 is lt 2 }} {{ 'x' is gt 'a' }} {{ [] is callable }} {{ range is callable }} {{ none is boolean }}")
    # statements
    p("{% set x = 1 %}{% set a, b = 1, 2 %}{{ x }}{{ a }}{{ b }}{% set t = (1, 2) %}{{ t[0] }}")
    p("{% set x %}captured {{ 1 }}{% endset %}[{{ x }}]{% set y | upper %}shout{% endset %}{{ y }}")
    p("{% for i in [1,2] %}{{ x|default('u') }}{% set x = i %}{% endfor %}{{ x }}")
    p("{% set x = 1 %}{% macro m() %}{{ x }}{% endmacro %}{% set x = 2 %}{{ m() }}")
    p("{% for i in [1,2] %}{% macro m() %}{{ i }}{% endmacro %}{{ m() }}{% endfor %}")
    p("{% macro greet(name, greeting='Hi') %}{{ greeting }}, {{ name }}!{% endmacro %}{{ greet('A') }} {{ greet('B', greeting='Yo') }} {{ greet(name='C') }}")
    p("{% macro m(a) %}{{ a }}|{{ varargs }}|{{ kwargs }}{% endmacro %}{{ m(1, 2, 3, k=4) }}")
    p("{% macro wrap() %}<{{ caller() }}>{% endmacro %}{% call wrap() %}inner{% endcall %}")
    p("{% macro wrap2() %}<{{ caller('x') }}>{% endmacro %}{% call(v) wrap2() %}got {{ v }}{% endcall %}")
    p("{% macro rec(n) %}{% if n > 0 %}{{ n }}{{ rec(n - 1) }}{% endif %}{% endmacro %}{{ rec(3) }}")
    p("{% set ns = namespace(c=0, items=[]) %}{% for i in range(4) %}{% set ns.c = ns.c + i %}{% endfor %}{{ ns.c }}")
    p("{% for k, v in {'a': 1, 'b': 2}.items() %}{{ k }}={{ v }}{% if not loop.last %},{% endif %}{% endfor %}")
    p("{% for (a, b) in [(1, 2), (3, 4)] %}{{ a + b }}{% endfor %}")
    p("{% for x in [] %}x{% else %}empty{% endfor %}{% for x in [1,2,3] if x > 1 %}{{ loop.index }}/{{ loop.length }}:{{ x }} {% endfor %}")
    p("{% for x in 'ab' %}{{ loop.index0 }}{{ loop.revindex }}{{ loop.first }}{{ loop.last }}{{ loop.previtem|default('-') }}{{ loop.nextitem|default('-') }}{{ loop.cycle('o','e') }} {% endfor %}")
    p("{% for i in range(10) %}{% if i == 2 %}{% continue %}{% endif %}{% if i == 5 %}{% break %}{% endif %}{{ i }}{% endfor %}")
    p("{% for i in [1,2] %}{% for j in [3,4] %}{{ loop.index }}{{ i }}{{ j }} {% endfor %}{% endfor %}")
    p("{% for item in tree recursive %}[{{ item.n }}{% if item.c %}{{ loop(item.c) }}{% endif %}]{% endfor %}",
      tree=[{"n": 1, "c": [{"n": 2, "c": []}, {"n": 3}]}, {"n": 4}])
    p("{% with a = 1, b = 2 %}{{ a + b }}{% endwith %}{{ a }}")
    p("{% filter upper %}some {{ 'text' }}{% endfilter %}")
    p("{% if x %}a{% elif y %}b{% else %}c{% endif %}{% if not x and not y %}!{% endif %}", y=1)
    p("{% generation %}gen {{ 1 }}{% endgeneration %}")
    p("{{ raise_exception('boom') }}")
    p("{{ strftime_now('%Y-%m-%d %H:%M %b %A') }}")
    p("{{ dict(a=1, b=2) }} {{ namespace(a=1).a }} {% set j = joiner('|') %}{{ j() }}a{{ j() }}b")
    p("{{ messages[0]['content'] }} {{ messages[0].content }} {{ messages[-1].role }}",
      messages=[{"role": "user", "content": "hi"}, {"role": "assistant", "content": None}])
    # syntax errors
    p("{% if true %}unclosed")
    p("{% for x in %}{% endfor %}")
    p("line1\nline2\n{{ 1 + }}")
    p("{% endif %}")
    p("{{ 'unterminated }}")
    p("{# unterminated comment")
    p("{% break %}")
    p("{% nosuchtag %}")
    p("{{ a b }}")
    p("text\n{% set %}")
    return P


def chat_inputs():
    """Hand-chosen conversations (OpenAI request format) for each template."""
    C = []

    def c(name, tid, messages, tools=None, gen=True, extra=None):
        C.append(dict(name=name, tid=tid, messages=messages, tools=tools, gen=gen, extra=extra))

    call = {"id": "call_1", "type": "function", "function": {
        "name": "get_weather", "arguments": "{\"city\": \"Paris\", \"days\": 2, \"options\": {\"unit\": \"celsius\", \"hourly\": false}, \"tags\": [\"a\", \"ü\"]}"}}
    call2 = {"id": "call_2", "type": "function", "function": {
        "name": "search", "arguments": "{\"query\":\"swift jinja\",\"filters\":[{\"field\":\"year\",\"value\":2024},{\"field\":\"score\",\"value\":0.5}],\"limit\":null}"}}
    tool_loop = [
        {"role": "system", "content": "You are terse."},
        {"role": "user", "content": "Weather in Paris, and search?"},
        {"role": "assistant", "content": None, "reasoning_content": "Need two tools.", "tool_calls": [call, call2]},
        {"role": "tool", "tool_call_id": "call_1", "content": "{\"temp\": 21}"},
        {"role": "tool", "tool_call_id": "call_2", "content": [{"type": "text", "text": "result one"}, {"type": "text", "text": " + two"}]},
    ]
    tools = [WEATHER_TOOL, dict(SEARCH_TOOL, strict=None)]
    multi = [
        {"role": "user", "content": "Hi"},
        {"role": "assistant", "content": "Hello! How can I help?", "reasoning_content": "The user greeted me."},
        {"role": "user", "content": [{"type": "text", "text": "Tell me "}, {"type": "text", "text": "a joke."}]},
        {"role": "assistant", "content": "<think>\nPick a short pun.\n</think>\nWhy did the scarecrow win? He was outstanding in his field."},
    ]
    for tid in ("glm-4.5", "glm-4.6", "glm-4.7-flash", "qwen3"):
        c(f"{tid} tool loop", tid, tool_loop, tools=tools)
        c(f"{tid} tool loop nothink", tid, tool_loop, tools=tools, extra={"enable_thinking": False})
        c(f"{tid} multi-turn, last assistant keeps reasoning", tid, multi, gen=False)
        c(f"{tid} multi-turn + new user", tid, multi + [{"role": "user", "content": "Another one."}])
        c(f"{tid} system only", tid, [{"role": "system", "content": "S"}, {"role": "user", "content": "U"}], extra={"enable_thinking": True})
    glm = "glm-4.5"
    c("glm-4.5 null content + reasoning in last turn", glm, [
        {"role": "user", "content": "Q"},
        {"role": "assistant", "content": None, "reasoning_content": "  think hard  ",
         "tool_calls": [{"type": "function", "function": {"name": "get_weather", "arguments": "{}"}}]}], gen=False)
    c("glm-4.5 empty-string arguments and bare call form", glm, [
        {"role": "user", "content": "Q"},
        {"role": "assistant", "content": "calling", "tool_calls": [
            {"type": "function", "function": {"name": "ping", "arguments": ""}},
            {"name": "bare", "arguments": {"x": [1, 2.5, None, True], "y": "str", "z": {"nested": {"deep": "é"}}}}]},
        {"role": "tool", "content": "pong"}], tools=[WEATHER_TOOL])
    c("glm-4.5 tool result list of outputs", glm, [
        {"role": "user", "content": "Q"},
        {"role": "assistant", "content": "", "tool_calls": [call]},
        {"role": "tool", "content": [{"output": "first"}, {"output": {"k": 1}}, "plain"]}])
    c("glm-4.5 user already ends with /nothink", glm, [
        {"role": "user", "content": "Be quick /nothink"}, {"role": "assistant", "content": "ok"},
        {"role": "user", "content": "again"}], extra={"enable_thinking": False})
    c("glm-4.5 image part dropped", glm, [
        {"role": "user", "content": [{"type": "text", "text": "Look: "}, {"type": "image_url", "image_url": {"url": "data:"}}]}])
    c("glm-4.5 tool first message", glm, [{"role": "tool", "content": "orphan"}, {"role": "user", "content": "x"}])
    c("glm-4.5 unicode and escapes in args", glm, [
        {"role": "user", "content": "用户 café 😀"},
        {"role": "assistant", "content": "", "tool_calls": [{"type": "function", "function": {
            "name": "search", "arguments": "{\"query\": \"line\\nbreak \\\"q\\\" \\\\ \\u00e9\", \"limit\": 1e3}"}}]}], tools=[SEARCH_TOOL])
    # Llama 3.2 (strftime_now pinned in the generator; date_string given in one case)
    llama = "llama-3.2"
    bos = {"bos_token": "<|begin_of_text|>"}
    c("llama-3.2 plain", llama, [{"role": "system", "content": "  Be nice.  "}, {"role": "user", "content": "Hi"}], extra=bos)
    c("llama-3.2 date_string", llama, [{"role": "user", "content": "Hi"}], extra=dict(bos, date_string="01 Jan 2025"))
    c("llama-3.2 tools in user message", llama, [
        {"role": "user", "content": "Weather?"},
        {"role": "assistant", "tool_calls": [call]},
        {"role": "tool", "content": "{\"temp\": 21}"}], tools=[WEATHER_TOOL], extra=bos)
    c("llama-3.2 two tool calls raises", llama, [
        {"role": "user", "content": "W"}, {"role": "assistant", "content": "", "tool_calls": [call, call2]}], tools=[WEATHER_TOOL], extra=bos)
    c("llama-3.2 tools without user raises", llama, [{"role": "system", "content": "S"}], tools=[WEATHER_TOOL], extra=bos)
    c("qwen3 tool-response user message", "qwen3", [
        {"role": "user", "content": "Q"},
        {"role": "assistant", "content": "", "tool_calls": [call]},
        {"role": "user", "content": "<tool_response>\nr\n</tool_response>"}], tools=[WEATHER_TOOL])
    return C


def nai_tok_inputs():
    """(snapshot file, messages, thinking on?, generation prompt?) for the nai-tok cases that match."""
    sys_ = lambda t: {"role": "system", "content": t}
    usr = lambda t: {"role": "user", "content": t}
    ast = lambda t, r=None: dict({"role": "assistant", "content": t}, **({"reasoning_content": r} if r else {}))
    pre = "glm45_template_tests__glm45_template_tests__"
    code = "Use `open()` with a context manager:\n```python\nwith open('file.txt', 'r') as f:\n    content = f.read()\n```"
    return [
        (pre + "01_basic_with_gen_prompt.snap", [sys_("You are a helpful assistant."), usr("Hello, how are you?")], False, True),
        (pre + "02_thinking_enabled.snap", [sys_("You are a helpful AI assistant."), usr("Solve this: 2 + 2")], True, True),
        (pre + "03_thinking_disabled.snap", [sys_("You are a helpful AI assistant."), usr("Solve this: 2 + 2")], False, True),
        (pre + "04_multi_turn.snap", [sys_("You are an expert programmer."), usr("How do I read a file in Python?"), ast(code),
                                      usr("What about writing?")], False, True),
        (pre + "05_no_system_prompt.snap", [usr("What's the weather like?"), ast("I don't have real-time data."),
                                            usr("Make a guess?")], False, True),
        (pre + "08_multi_turn_reasoning.snap", [usr("Is 17 prime?"), ast("Yes, 17 is prime.", "17 has no divisors but 1 and 17."),
                                                usr("What about 18?")], True, True),
        (pre + "09_chat_no_prefill.snap", [sys_("You are a helpful assistant."), usr("Hello!")], False, False),
        (pre + "10_chat_canonical_prefill.snap", [sys_("You are a helpful assistant."), usr("What is 2+2?")], False, True),
        (pre + "11_chat_canonical_prefill_reasoning_enabled.snap", [sys_("You are a helpful assistant."),
                                                                   usr("Solve this problem: 15 * 24")], True, True),
        (pre + "14_chat_multi_turn_with_assistant_messages.snap", [sys_("You are a math tutor."), usr("What is 5 * 5?"),
                                                                  ast("5 * 5 = 25"), usr("What about 6 * 6?")], False, True),
        (pre + "15_chat_multi_turn_with_reasoning.snap", [usr("Is 13 prime?"), ast("Yes, 13 is prime.", "Check 2, 3: none divide 13."),
                                                          usr("What about 21?")], True, True),
        (pre + "17_chat_empty_system_message.snap", [sys_(""), usr("Hello!")], False, True),
        (pre + "18_chat_complex_multi_turn.snap", [sys_("You are a helpful coding assistant."), usr("How do I reverse a string in Python?"),
                                                   ast("Use slicing: `s[::-1]`"), usr("What about in JavaScript?"),
                                                   ast("Use: `str.split('').reverse().join('')`"), usr("Thanks! One more: Rust?")], False, True),
    ]


# ---------------------------------------------------------------- random conversations

PIECES = ["Hello", "用户的回复", "café", "😀", "line1\nline2", "  padded  ", "\n\nlead", "trail\n\n", "<think>", "</think>",
          "/nothink", "'single'", '"double"', "back\\slash", "tab\tsep", "{{ not jinja }}", "{% raw %}", "", " ", "\u2028",
          "\x01", "<tool_call>", "<|user|>", "e\u0301", "\r\n", "None", "42"]
FLOATS = [0.5, 1.0, -2.25, 1e-7, 3.14159, 1e21, 123456789.0, 0.1, 2.5e-5, 1e16, -0.0]


def rtext(rng, n=3):
    return "".join(rng.choice(PIECES) for _ in range(rng.randint(0, n)))


def rvalue(rng, depth=0):
    k = rng.randint(0, 8 if depth < 2 else 5)
    if k == 0: return rtext(rng)
    if k == 1: return rng.choice([0, 1, -7, 42, 2 ** 40, 10 ** 15])
    if k == 2: return rng.choice(FLOATS)
    if k == 3: return rng.choice([True, False])
    if k == 4: return None
    if k == 5: return rng.choice(["plain", "Paris", "{\"json\": \"looking\"}", "123"])
    if k in (6, 7): return [rvalue(rng, depth + 1) for _ in range(rng.randint(0, 3))]
    return {rng.choice(["a", "b", "ключ", "key with space", "n"]) + str(i): rvalue(rng, depth + 1) for i in range(rng.randint(0, 3))}


def rcontent(rng, openai):
    k = rng.random()
    if k < 0.65: return rtext(rng)
    if k < 0.8:
        parts = []
        for _ in range(rng.randint(0, 3)):
            r = rng.random()
            parts.append({"type": "text", "text": rtext(rng)} if r < 0.7 else (rtext(rng) if r < 0.85 else {"type": "image_url", "image_url": {"url": "u"}}))
        return parts
    if k < 0.9: return None
    if k < 0.95: return rng.choice([42, 2.5, True])
    return "MISSING"


def rtool(rng, i):
    props = {}
    for j in range(rng.randint(0, 4)):
        t = rng.choice(["string", "integer", "number", "boolean", "object", "array"])
        p = {"type": t, "description": rtext(rng, 2)}
        if t == "array": p["items"] = {"type": rng.choice(["string", "object"]), "properties": {"x": {"type": "integer"}}}
        if t == "object": p["properties"] = {"inner": {"type": "string", "enum": ["a", "b"]}}
        props[f"p{j}"] = p
    fn = {"name": f"tool_{i}", "description": rtext(rng, 2), "parameters": {"type": "object", "properties": props, "required": list(props)[:1]}}
    if rng.random() < 0.3: fn["strict"] = rng.choice([None, True])
    return {"type": "function", "function": fn}


def rcall(rng, openai):
    args = {f"arg{j}": rvalue(rng) for j in range(rng.randint(0, 3))}
    if openai:
        sep = rng.choice([None, (",", ":")])
        args = json.dumps(args, ensure_ascii=rng.random() < 0.5, separators=sep)
    fn = {"name": rng.choice(["get_weather", "search", "tool_0", "名前"]), "arguments": args}
    return {"id": "call_x", "type": "function", "function": fn} if rng.random() < 0.85 else fn


def random_conversation(rng, openai):
    messages = []
    for _ in range(rng.randint(1, 7)):
        role = rng.choice(["user", "user", "assistant", "assistant", "tool", "system"])
        m = {"role": role}
        content = rcontent(rng, openai)
        if role == "tool" and rng.random() < 0.3:
            content = [{"output": rtext(rng)} if rng.random() < 0.5 else rtext(rng) for _ in range(rng.randint(1, 2))]
        if role == "assistant" and rng.random() < 0.3:
            content = "<think>" + rtext(rng) + "</think>" + rtext(rng)
        if content != "MISSING":
            m["content"] = content
        if role == "assistant":
            r = rng.random()
            if r < 0.3: m["reasoning_content"] = rtext(rng)
            elif r < 0.4: m["reasoning_content"] = None
            if rng.random() < 0.4:
                m["tool_calls"] = [rcall(rng, openai) for _ in range(rng.randint(1, 3))]
        messages.append(m)
    tools = None
    if rng.random() < 0.5:
        tools = [rtool(rng, i) for i in range(rng.randint(0, 3))]
    extra = {}
    r = rng.random()
    if r < 0.3: extra["enable_thinking"] = False
    elif r < 0.45: extra["enable_thinking"] = True
    if rng.random() < 0.1: extra["clear_thinking"] = False
    return messages, tools, rng.random() < 0.7, extra

