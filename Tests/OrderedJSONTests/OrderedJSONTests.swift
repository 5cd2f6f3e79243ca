import Foundation
import OrderedJSON
import Testing

/// Expected texts are what CPython 3.11's `json.loads` / `json.dumps` and `repr(float)` give.
@Suite("Ordered JSON")
struct OrderedJSONTests {
    @Test("key order, the int/float distinction and Python's formatting survive a round trip")
    func roundTrip() throws {
        let v = try JSONValue.parse(#"{"b": 1, "a": [2.0, 1e-7, 1e16, 0.1, "é\n", null, true, -0.0], "c": {}}"#)
        #expect(v.objectValue?.keys == ["b", "a", "c"])
        #expect(v.pythonJSON() == #"{"b": 1, "a": [2.0, 1e-07, 1e+16, 0.1, "é\n", null, true, -0.0], "c": {}}"#)
        #expect(v.compactJSON == #"{"b":1,"a":[2.0,1e-07,1e+16,0.1,"é\n",null,true,-0.0],"c":{}}"#)
    }

    @Test("what json.loads accepts beyond RFC 8259, and Python's dict semantics")
    func pythonAcceptance() throws {
        // A repeated key keeps its first position and takes the last value.
        #expect(try JSONValue.parse(#"{"k": 1, "j": 2, "k": 3}"#).pythonJSON() == #"{"k": 3, "j": 2}"#)
        let numbers = try JSONValue.parse("[123456789012345678901234567890, NaN, -Infinity, 1.5e300]")
        #expect(numbers.pythonJSON() == "[123456789012345678901234567890, NaN, -Infinity, 1.5e+300]")
        #expect(numbers == numbers)   // NaN equals itself here, so parsed values compare
    }

    @Test("ensure_ascii, indent and sort_keys")
    func options() throws {
        let v = try JSONValue.parse(#"{"z": ["😀", "\u0001"], "a": {}}"#)
        var out = ""
        PythonJSON.write(v, into: &out, options: .init(indent: "  ", ensureASCII: true, sortKeys: true))
        #expect(out == "{\n  \"a\": {},\n  \"z\": [\n    \"\\ud83d\\ude00\",\n    \"\\u0001\"\n  ]\n}")
        #expect(PythonJSON.escape("a\"b\\c\u{1F}") + PythonJSON.escape("é") == PythonJSON.escape("a\"b\\c\u{1F}é"))
    }

    @Test("errors name the byte where the text stops being JSON")
    func errors() {
        for (text, offset) in [("{\"a\": }", 6), ("[1, 2", 5), ("{\"a\" 1}", 5), ("01", 1), ("\"\\x\"", 3), ("[1] x", 4)] {
            #expect { try JSONValue.parse(text) } throws: { ($0 as? JSONParseError)?.offset == offset }
        }
        let deep = String(repeating: "[", count: 600) + String(repeating: "]", count: 600)
        #expect { try JSONValue.parse(deep) } throws: { ($0 as? JSONParseError)?.message == "nesting too deep" }
    }

    @Test("repr(float)")
    func floatRepr() {
        for (d, s) in [(1.0, "1.0"), (1e22, "1e+22"), (123456789.0, "123456789.0"), (0.0001, "0.0001"), (0.00001, "1e-05"),
                       (1.5e300, "1.5e+300"), (-2.5, "-2.5"), (5e-324, "5e-324"), (-0.0, "-0.0"), (0.1 + 0.2, "0.30000000000000004"),
                       (.nan, "nan"), (.infinity, "inf"), (-.infinity, "-inf")] {
            #expect(PythonJSON.floatRepr(d) == s)
        }
    }
}
