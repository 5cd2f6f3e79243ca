#!/usr/bin/env python3
"""Writes Tests/Fixtures/constraints/json_schema_cases.json: JSON schemas, documents as json.dumps
writes them, and whether python-jsonschema (the oracle, pinned in requirements.txt) finds each
document valid. Swift's JSONSchemaPrefix must read exactly the valid ones whole.

    pip install -r Tools/constraints/requirements.txt
    python3 Tools/constraints/make_fixtures.py

Documents are random instances of each schema and mutations of them (a value of another type, a
required key dropped, an unknown key, a value outside an enum, too many or too few items, ...).
The schemas keep to what swift-glm enforces and state `additionalProperties` wherever they list
properties (swift-glm, like OpenAI's strict mode, takes only listed keys otherwise), and leave out
OpenAPI's `nullable`, which python-jsonschema does not know.
"""
import copy
import importlib.metadata
import json
import pathlib
import random

import jsonschema

VERSION = importlib.metadata.version("jsonschema")
assert VERSION == "4.23.0", f"pinned jsonschema 4.23.0, found {VERSION}"

OUT = pathlib.Path(__file__).resolve().parents[2] / "Tests" / "Fixtures" / "constraints" / "json_schema_cases.json"
SEED = 20261201

SCHEMAS = {
    "weather": {"type": "object", "additionalProperties": False, "required": ["city", "unit"],
                "properties": {"city": {"type": "string"}, "unit": {"enum": ["celsius", "fahrenheit"]},
                               "days": {"type": "integer"}}},
    "person": {"type": "object", "additionalProperties": False, "required": ["name", "age", "tags"],
               "properties": {"name": {"type": "string"}, "age": {"type": "integer"}, "height": {"type": "number"},
                              "tags": {"type": "array", "items": {"type": "string"}, "minItems": 1, "maxItems": 3},
                              "spouse": {"anyOf": [{"type": "null"}, {"$ref": "#/$defs/short"}]}},
               "$defs": {"short": {"type": "object", "additionalProperties": False, "required": ["name"],
                                   "properties": {"name": {"type": "string"}}}}},
    "tree": {"$ref": "#/$defs/node",
             "$defs": {"node": {"type": "object", "additionalProperties": False, "required": ["value"],
                                "properties": {"value": {"type": "integer"},
                                               "children": {"type": "array", "items": {"$ref": "#/$defs/node"},
                                                            "maxItems": 2}}}}},
    "union": {"type": ["string", "integer", "null", "boolean"]},
    "list_of_numbers": {"type": "array", "items": {"type": "number"}, "minItems": 2},
    "free_object": {"type": "object"},
    "map": {"type": "object", "additionalProperties": {"type": "integer"}},
    "const_and_enum": {"type": "object", "additionalProperties": False, "required": ["v", "kind"],
                       "properties": {"v": {"const": 2}, "kind": {"enum": ["a", "b", 3, None, True]}}},
    "one_of": {"oneOf": [{"type": "object", "additionalProperties": False, "required": ["x"],
                          "properties": {"x": {"type": "integer"}}},
                         {"type": "array", "items": {"type": "boolean"}, "maxItems": 2}]},
    "lengths": {"type": "object", "additionalProperties": False, "required": ["code", "name"],
                "properties": {"code": {"type": "string", "minLength": 2, "maxLength": 3},
                               "name": {"type": "string", "minLength": 1}, "note": {"type": "string", "maxLength": 4}}},
    "short_strings": {"type": "array", "items": {"type": "string", "maxLength": 2}, "maxItems": 4},
    "bounded_integers": {"type": "object", "additionalProperties": False, "required": ["age", "delta"],
                         "properties": {"age": {"type": "integer", "minimum": 0, "maximum": 130},
                                        "delta": {"type": "integer", "exclusiveMinimum": -10, "exclusiveMaximum": 10},
                                        "big": {"type": "integer", "minimum": 1000},
                                        "negative": {"type": "integer", "maximum": -5.5}}},
}

WORDS = ["Oslo", "a b", "日本", "quote \" and \\ slash", "tab\there", "", "x" * 12, "new\nline", "é"]
# Strings around length bounds: characters of one to four UTF-8 bytes, and an emoji that json.dumps
# escapes as a surrogate pair.
SIZED = ["a", "ab", "abc", "abcd", "日本", "日本語", "😀", "😀😀", "a😀b", "é\"", "\\n", "Zürich"]
INTEGERS = [0, 1, -1, 5, -5, -6, 9, 10, -9, -10, 129, 130, 131, 999, 1000, 123456, -123456, 10**20, -(10**20)]


def resolve(schema, root):
    while "$ref" in schema:
        node = root
        for part in schema["$ref"][2:].split("/"):
            node = node[part]
        schema = node
    return schema


def instance(rng, schema, root, depth=0):
    """A random valid instance."""
    schema = resolve(schema, root)
    if "enum" in schema:
        return copy.deepcopy(rng.choice(schema["enum"]))
    if "const" in schema:
        return copy.deepcopy(schema["const"])
    for key in ("anyOf", "oneOf"):
        if key in schema:
            return instance(rng, rng.choice(schema[key]), root, depth)
    types = schema.get("type", rng.choice(["object", "integer", "string", "array"]) if depth < 2 else "integer")
    if isinstance(types, list):
        types = rng.choice(types)
    if schema.get("nullable") and rng.random() < 0.3:
        return None
    if types == "string":
        if "minLength" not in schema and "maxLength" not in schema:
            return rng.choice(WORDS)
        lo, hi = schema.get("minLength", 0), schema.get("maxLength", 99)
        return rng.choice([w for w in WORDS + SIZED if lo <= len(w) <= hi])
    if types == "integer":
        fits = [n for n in INTEGERS if jsonschema.Draft202012Validator(schema).is_valid(n)]
        return rng.choice(fits if len(fits) < len(INTEGERS) else [0, 7, -3, 120, 99999])
    if types == "number":
        return rng.choice([0, 1.5, -2.25, 3e-7, 12, 1e20])
    if types == "boolean":
        return rng.random() < 0.5
    if types == "null":
        return None
    if types == "array":
        lo, hi = schema.get("minItems", 0), schema.get("maxItems", 3)
        return [instance(rng, schema.get("items", {}), root, depth + 1) for _ in range(rng.randint(lo, max(lo, hi)) if depth < 3 else lo)]
    props = schema.get("properties", {})
    out = {}
    for key in props:
        if key in schema.get("required", []) or (rng.random() < 0.5 and depth < 3):
            out[key] = instance(rng, props[key], root, depth + 1)
    extra = schema.get("additionalProperties", True)
    if not props and extra is not False and rng.random() < 0.7:
        for i in range(rng.randint(1, 3)):
            out[f"k{i}"] = instance(rng, extra if isinstance(extra, dict) else {}, root, depth + 1)
    keys = list(out)
    rng.shuffle(keys)
    return {k: out[k] for k in keys}


def mutations(rng, doc, probes=()):
    """Documents near `doc` that are often invalid; `probes` are further values to put in it."""
    out = [0.5, "text", None, [], {}, True, [doc], {"unknown": doc}]
    if isinstance(doc, dict):
        for key in doc:
            dropped = dict(doc)
            del dropped[key]
            out.append(dropped)
            for value in (3.5, "s", None, [1], {"z": 1}, 4, "celsius", "kelvin", False, *probes):
                changed = dict(doc)
                changed[key] = value
                out.append(changed)
        added = dict(doc)
        added["zzz"] = 1
        out.append(added)
    if isinstance(doc, list):
        out += [doc + doc + doc, doc[:1], doc[1:], [*doc, "x"], [*doc, 2.5], *([*doc, p] for p in probes)]
    return out


def texts(rng, doc):
    """json.dumps forms swift-glm's white-space bound admits."""
    forms = [json.dumps(doc), json.dumps(doc, separators=(",", ":")), json.dumps(doc, ensure_ascii=False)]
    if rng.random() < 0.3:
        forms.append(json.dumps(doc, indent=2))
    return forms


def main():
    rng = random.Random(SEED)
    cases = []
    for name, schema in SCHEMAS.items():
        validator = jsonschema.Draft202012Validator(schema)
        seen = set()
        for _ in range(8):
            doc = instance(rng, schema, schema)
            probes = {"lengths": SIZED, "short_strings": SIZED, "bounded_integers": INTEGERS}.get(name, [])
            for candidate in [doc, *mutations(rng, doc, probes)]:
                for text in texts(rng, candidate):
                    if text in seen:
                        continue
                    seen.add(text)
                    cases.append({"schema": name, "text": text, "valid": validator.is_valid(json.loads(text))})
    OUT.parent.mkdir(parents=True, exist_ok=True)
    OUT.write_text(json.dumps({
        "generator": "Tools/constraints/make_fixtures.py", "jsonschema_version": VERSION,
        "schemas": SCHEMAS, "cases": cases}, ensure_ascii=False, indent=1) + "\n")
    valid = sum(c["valid"] for c in cases)
    print(f"wrote {len(cases)} cases ({valid} valid) to {OUT}")


if __name__ == "__main__":
    main()
