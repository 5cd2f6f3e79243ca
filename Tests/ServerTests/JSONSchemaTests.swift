@testable import Constraints
import Foundation
import OrderedJSON
import Testing

@Suite("JSON schema constraint")
struct JSONSchemaTests {
    static func grammar(_ schema: String) throws -> JSONSchemaGrammar {
        try JSONSchemaGrammar(schema: try JSONValue.parse(schema))
    }

    /// Feeds `text`; the index of the first byte refused, or nil, and whether the text is whole.
    static func firstRefusal(_ grammar: JSONSchemaGrammar, _ text: String) -> (refusedAt: Int?, complete: Bool) {
        var json = JSONSchemaPrefix(grammar: grammar)
        for (i, b) in text.utf8.enumerated() where !json.feed(b) { return (i, false) }
        return (nil, json.isComplete)
    }

    @Test("{\"type\": \"object\"} reads exactly what json_object reads")
    func anyObject() throws {
        let object = try Self.grammar(#"{"type": "object"}"#)
        for text in [#"{}"#, #"{"a": 1}"#, #" {"a": [1, -2.5e+3, 0.25, true, false, null, {"b": []}], "c": "x\"\u00e9\n"}"#,
                     "{\n  \"k\": {\n    \"z\": -0\n  }\n} \n", #"{"é": "日本", "n": 10E-2}"#] {
            #expect(Self.firstRefusal(object, text) == (nil, true), "\(text)")
            for cut in 1..<text.utf8.count where !text.utf8.dropFirst(cut).allSatisfy({ $0 == 0x20 || $0 == 0x0A }) {
                let prefix = String(decoding: Array(text.utf8.prefix(cut)), as: UTF8.self)
                #expect(Self.firstRefusal(object, prefix) == (nil, false), "\(prefix)")
            }
        }
        for (text, at) in [("[1]", 0), (#"{"a" 1}"#, 5), (#"{"a": 01}"#, 7), (#"{"a": 1,}"#, 8), (#"{'a': 1}"#, 1),
                           (#"{"a": tru}"#, 9), (#"{"a": 1} x"#, 9), (#"{"a": "\x"}"#, 8), (#"{"a": -}"#, 7),
                           (#"{"a": 1.}"#, 8), (#"{"a": 1e}"#, 8), (#"{"a": [1 2]}"#, 9), ("{\"a\": \"\n\"}", 7),
                           ("{" + String(repeating: " ", count: 7), 7)] {
            #expect(Self.firstRefusal(object, text).refusedAt == at, "\(text)")
        }
    }

    @Test("exactly the documents python-jsonschema finds valid are read whole (Tests/Fixtures/constraints)")
    func oracle() throws {
        let url = ServerFixture.repoRoot.appendingPathComponent("Tests/Fixtures/constraints/json_schema_cases.json")
        let fixture = try JSONValue.parse(data: try Data(contentsOf: url))
        var grammars: [String: JSONSchemaGrammar] = [:]
        for (name, schema) in fixture["schemas"]?.objectValue?.entries ?? [] { grammars[name] = try JSONSchemaGrammar(schema: schema) }
        let cases = fixture["cases"]?.arrayValue ?? []
        #expect(cases.count > 2000 && grammars.count == 12)
        var wrong: [String] = []
        for c in cases {
            let name = c["schema"]?.stringValue ?? "", text = c["text"]?.stringValue ?? ""
            let (refusedAt, complete) = Self.firstRefusal(try #require(grammars[name]), text)
            if (refusedAt == nil && complete) != (c["valid"] == .bool(true)) { wrong.append("\(name): \(text)") }
        }
        #expect(wrong.isEmpty, "\(wrong.count) of \(cases.count) disagree with jsonschema:\n\(wrong.prefix(10).joined(separator: "\n"))")
    }

    static let person = #"""
        {"type": "object", "properties": {
            "name": {"type": "string"},
            "age": {"type": "integer"},
            "unit": {"enum": ["celsius", "fahrenheit"]},
            "tags": {"type": "array", "items": {"type": "string"}, "maxItems": 2},
            "home": {"$ref": "#/$defs/place"},
            "score": {"type": ["number", "null"]}},
         "required": ["name", "age"], "additionalProperties": false,
         "$defs": {"place": {"type": "object", "properties": {"city": {"type": "string"},
                                                            "near": {"anyOf": [{"$ref": "#/$defs/place"}, {"type": "null"}]}},
                             "required": ["city"]}}}
        """#

    @Test("documents the schema allows are read whole, in any key order")
    func valid() throws {
        let g = try Self.grammar(Self.person)
        for text in [#"{"name": "Ann", "age": 7}"#, #"{"age": -3, "name": ""}"#,
                     #"{"name": "A", "age": 0, "unit": "fahrenheit", "tags": [], "score": null}"#,
                     #"{"name": "A", "age": 1, "tags": ["x", "y"], "score": 2.5e3}"#,
                     #"{"home": {"city": "Oslo", "near": {"city": "Bergen", "near": null}}, "name": "B", "age": 2}"#,
                     "{\n  \"name\": \"C\",\n  \"age\": 3\n}"] {
            #expect(Self.firstRefusal(g, text) == (nil, true), "\(text)")
        }
    }

    @Test("what breaks the schema is refused at the first byte that rules it out")
    func invalid() throws {
        let g = try Self.grammar(Self.person)
        for (text, at) in [(#"{"name": 5"#, 9),                          // a string
                           (#"{"nick": "A"}"#, 3),                        // no such key
                           (#"{"name": "A", "name""#, 15),                // a key twice
                           (#"{"name": "A"}"#, 12),                       // age is required
                           (#"{"name": "A", "age": 1.5"#, 22),            // an integer
                           (#"{"name": "A", "age": 1, "unit": "kelvin"#, 33),
                           (#"{"name": "A", "age": 1, "tags": ["a", "b", "c"]"#, 41),   // maxItems 2
                           (#"{"name": "A", "age": 1, "home": {"near": null}"#, 45),    // city is required
                           (#"{"name": "A", "age": 1, "score": true"#, 33),
                           (#"{"name": "A", "age": 1, "name": "B"}"#, 25)] {
            #expect(Self.firstRefusal(g, text).refusedAt == at, "\(text)")
        }
    }

    @Test("string lengths and integer bounds refuse at the first byte no valid value can follow")
    func valueBounds() throws {
        let short = try Self.grammar(#"{"type": "string", "minLength": 1, "maxLength": 2}"#)
        #expect(Self.firstRefusal(short, #""ab""#) == (nil, true))
        #expect(Self.firstRefusal(short, #""""#).refusedAt == 1)                     // too short
        #expect(Self.firstRefusal(short, #""abc"#).refusedAt == 3)                   // too long
        #expect(Self.firstRefusal(short, #""ab\n"#).refusedAt == 3)                  // an escape is a character too
        #expect(Self.firstRefusal(short, #""\u65e5\u672c""#) == (nil, true))        // 日本
        #expect(Self.firstRefusal(short, #""a\ud83d\ude00""#) == (nil, true))       // a surrogate pair is one character
        #expect(Self.firstRefusal(short, #""a\ud83d\u0"#).refusedAt == 10)          // no room for what is not its low half
        #expect(Self.firstRefusal(short, "\"日本\"") == (nil, true))
        #expect(Self.firstRefusal(short, "\"日本語").refusedAt == 7)
        // Under maxLength the bytes must be well-formed UTF-8: a stray byte would decode to one more character.
        var stray = JSONSchemaPrefix(grammar: short)
        #expect(stray.feed(UInt8(ascii: "\"")) && !stray.feed(0x80))
        var cut = JSONSchemaPrefix(grammar: short)
        #expect(cut.feed(UInt8(ascii: "\"")) && cut.feed(0xE6) && !cut.feed(UInt8(ascii: "\"")))
        let age = try Self.grammar(#"{"type": "integer", "minimum": 5, "exclusiveMaximum": 13}"#)
        #expect(Self.firstRefusal(age, "5") == (nil, true))
        #expect(Self.firstRefusal(age, "12") == (nil, true))
        #expect(Self.firstRefusal(age, "1") == (nil, false))                         // 10, 11, 12
        for (text, at) in [("13", 1), ("2", 0), ("-", 0), ("0", 0), ("4", 0), ("120", 2)] {
            #expect(Self.firstRefusal(age, text).refusedAt == at, "\(text)")
        }
        let negative = try Self.grammar(#"{"type": "integer", "maximum": -5.5}"#)
        #expect(Self.firstRefusal(negative, "-6") == (nil, true))
        #expect(Self.firstRefusal(negative, "-5") == (nil, false))                   // -50, -51, …
        #expect(Self.firstRefusal(negative, "-0").refusedAt == 1)
        #expect(Self.firstRefusal(negative, "7").refusedAt == 0)
        #expect(throws: JSONSchemaError.self) { try Self.grammar(#"{"type": "integer", "minimum": 3, "maximum": 2.5}"#) }
        #expect(throws: JSONSchemaError.self) { try Self.grammar(#"{"type": "string", "minLength": 3, "maxLength": 2}"#) }
    }

    @Test("scalars, unions and a top-level number")
    func scalars() throws {
        let number = try Self.grammar(#"{"type": "number"}"#)
        #expect(Self.firstRefusal(number, "-12.5") == (nil, true))
        #expect(Self.firstRefusal(number, "-12.") == (nil, false))
        let boolOrList = try Self.grammar(#"{"anyOf": [{"type": "boolean"}, {"type": "array", "items": {"const": 1}, "minItems": 1}]}"#)
        #expect(Self.firstRefusal(boolOrList, "false") == (nil, true))
        #expect(Self.firstRefusal(boolOrList, "[1, 1]") == (nil, true))
        #expect(Self.firstRefusal(boolOrList, "[]").refusedAt == 1)
        #expect(Self.firstRefusal(boolOrList, "[2]").refusedAt == 1)
        let nullable = try Self.grammar(#"{"type": "string", "nullable": true}"#)
        #expect(Self.firstRefusal(nullable, "null") == (nil, true))
        #expect(Self.firstRefusal(nullable, #""x""#) == (nil, true))
    }

    @Test("schemas it cannot enforce are refused with the place named")
    func unsupported() {
        for (schema, place) in [(#"{"type": "object", "properties": {"a": {"not": {}}}}"#, "schema.properties.a.not"),
                                (#"{"type": "tuple"}"#, "schema.type"), (#"{"$ref": "https://x/y.json"}"#, "schema.$ref"),
                                (#"{"type": "object", "properties": {}, "required": ["a"]}"#, "schema.required"),
                                (#"{"allOf": [{}, {}]}"#, "schema.allOf"), (##"{"$ref": "#/$defs/missing"}"##, "schema.$ref"),
                                (#"{"enum": []}"#, "schema.enum"), ("false", "schema")] {
            #expect {
                try Self.grammar(schema)
            } throws: { error in
                (error as? JSONSchemaError)?.description.hasPrefix(place) == true
            }
        }
    }
}
