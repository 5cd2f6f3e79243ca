import Foundation
import OrderedJSON
@testable import Templates
import Testing

@Suite("Template engine units")
struct TemplateUnitTests {
    func render(_ src: String, _ vars: [String: JSONValue] = [:]) throws -> String {
        try ChatTemplate(source: src).render(variables: vars)
    }

    func error(_ body: () throws -> Any) -> TemplateError? {
        do { _ = try body(); return nil } catch let e as TemplateError { return e } catch { return nil }
    }

    @Test("syntax errors are reported at load time with their line")
    func syntaxLines() {
        let cases: [(String, Int)] = [("line1\nline2\n{{ 1 + }}", 3), ("{% if x %}\n\n{% endfor %}", 3), ("a\n{{ x | nosuchfilter }}", 2),
                                      ("{% for x in y %}\n", 1), ("\n\n{# open", 3), ("x\n{% set %}", 2), ("{{ 'a' }}\n{{ \"b }}", 2)]
        for (src, line) in cases {
            let e = error { try ChatTemplate(source: src) }
            #expect(e?.kind == .syntax, "\(src.debugDescription)")
            #expect(e?.line == line, "\(src.debugDescription): \(String(describing: e))")
        }
    }

    @Test("render errors carry kind and line")
    func renderErrors() throws {
        let undefinedAttr = error { try render("a\nb\n{{ x.y }}") }
        #expect(undefinedAttr?.kind == .undefined && undefinedAttr?.line == 3)
        #expect(undefinedAttr?.message == "'x' is undefined")
        let raised = error { try render("{% if true %}\n{{ raise_exception('Only user and assistant roles') }}{% endif %}") }
        #expect(raised?.kind == .raised && raised?.message == "Only user and assistant roles" && raised?.line == 2)
        #expect(error { try render("{{ 'a' + 1 }}") }?.kind == .runtime)
        var slow = try ChatTemplate(source: "{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}")
        slow.stepLimit = 20_000
        #expect(error { try slow.render(variables: [:]) }?.kind == .limit)
        #expect(error { try render("{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}") }?.kind == .limit)
    }

    @Test("strftime_now uses the injected clock")
    func clock() throws {
        var t = try ChatTemplate(source: "{{ strftime_now('%d %b %Y') }}")
        t.now = { Fixtures.fixedNow }
        #expect(try t.render(variables: [:]) == "26 Jul 2024")
    }

    @Test("OpenAI input normalisation")
    func normalisation() throws {
        let msgs = try JSONValue.parse("""
        [{"role": "assistant", "content": null, "tool_calls": [{"type": "function", "function": {"name": "f", "arguments": "{\\"b\\": 1, \\"a\\": 2}"}}]},
         {"role": "tool", "content": [{"type": "text", "text": "x"}, {"type": "text", "text": "y"}]}]
        """).arrayValue!
        let n = try ChatInput.normalize(messages: msgs, tools: [try JSONValue.parse(#"{"type": "function", "strict": null, "function": {"name": "f", "description": null}}"#)])
        #expect(n.messages[0]["content"] == .string(""))
        #expect(n.messages[0]["tool_calls"]?.arrayValue?[0]["function"]?["arguments"]?.objectValue?.keys == ["b", "a"])
        #expect(n.messages[1]["content"] == .string("xy"))
        #expect(n.tools?[0] == (try JSONValue.parse(#"{"type": "function", "function": {"name": "f"}}"#)))
        let bad = try JSONValue.parse(#"[{"role": "assistant", "tool_calls": [{"function": {"name": "f", "arguments": "{oops"}}]}]"#).arrayValue!
        #expect(throws: ChatInputError.self) { try ChatInput.normalize(messages: bad, tools: nil) }
        let file = try ChatInput.parseConversation(try JSONValue.parse(#"{"messages": [{"role": "user", "content": "hi"}], "tools": []}"#))
        #expect(file.messages.count == 1 && file.tools == [])
    }

    @Test("loader: chat_template.jinja, tokenizer_config string/list, override, special tokens")
    func loader() throws {
        let dir = FileManager.default.temporaryDirectory.appendingPathComponent("tpl-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: dir, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: dir) }
        #expect(throws: ChatTemplateLoaderError.self) { try ChatTemplateLoader.load(modelDirectory: dir) }
        let config = dir.appendingPathComponent("tokenizer_config.json")
        try #"{"bos_token": {"content": "<s>"}, "eos_token": "</s>", "chat_template": [{"name": "tool_use", "template": "T"}, {"name": "default", "template": "{{ bos_token }}D"}]}"#
            .write(to: config, atomically: true, encoding: .utf8)
        #expect(try ChatTemplateLoader.load(modelDirectory: dir).render(variables: [:]) == "<s>D")
        #expect(try ChatTemplateLoader.loadSource(modelDirectory: dir, name: "tool_use") == "T")
        try #"{"chat_template": "S{{ eos_token }}", "eos_token": "</s>"}"#.write(to: config, atomically: true, encoding: .utf8)
        #expect(try ChatTemplateLoader.load(modelDirectory: dir).render(variables: [:]) == "S</s>")
        try "J".write(to: dir.appendingPathComponent("chat_template.jinja"), atomically: true, encoding: .utf8)
        #expect(try ChatTemplateLoader.loadSource(modelDirectory: dir) == "J")
        let override = dir.appendingPathComponent("other.jinja")
        try "O".write(to: override, atomically: true, encoding: .utf8)
        #expect(try ChatTemplateLoader.loadSource(modelDirectory: dir, overrideFile: override) == "O")
        // The shared GLM-4.5 files load and render.
        let glm = try ChatTemplateLoader.load(modelDirectory: Fixtures.shared.appendingPathComponent("glm45"))
        #expect(try glm.render(messages: [.object(["role": "user", "content": "Hi"])]) == "[gMASK]<sop><|user|>\nHi<|assistant|>")
        #expect(glm.defaultVariables["eos_token"] == .string("<|endoftext|>"))
    }

    @Test("fuzz: random and truncated templates give errors, not crashes, in bounded time")
    func fuzz() throws {
        var rng = SystemRandomNumberGeneratorSeeded(seed: 42)
        let glm = try Fixtures.templateSource("glm-4.5")
        let pieces = ["{{", "}}", "{%", "%}", "{#", "#}", "{%-", "-%}", " if ", " for ", " x ", " in ", "endif", "endfor", "(", ")", "[",
                      "]", "'s'", "\"", "|", "length", ".", "loop", "set", "=", "macro", "m()", "endmacro", "1", "-", "~", "not",
                      "is", "defined", "\n", "  ", "raw", "endraw", ",", ":", "{", "}", "range(3)", "namespace(a=1)", "ns.a", "call", "else"]
        let vars: [String: JSONValue] = ["x": .array([.int(1), .string("a")]), "messages": .array([.object(["role": "user", "content": "hi"])])]
        var sources: [String] = []
        for _ in 0..<600 { sources.append((0..<Int(rng.next() % 30)).map { _ in pieces[Int(rng.next() % UInt64(pieces.count))] }.joined()) }
        let u = Array(glm.unicodeScalars)
        for cut in stride(from: 0, to: u.count, by: 23) {
            var v = String.UnicodeScalarView(); v.append(contentsOf: u[0..<cut]); sources.append(String(v))
        }
        sources.append(String(repeating: "(", count: 5000))
        sources.append(String(repeating: "{% if x %}", count: 3000))
        sources.append(String(repeating: "not ", count: 5000) + "x")
        let start = Date()
        for src in sources {
            do {
                let t = try ChatTemplate(source: src)
                _ = try t.render(variables: vars)
            } catch is TemplateError {
            } catch {
                Issue.record("non-template error \(error) for \(src.debugDescription)")
            }
        }
        #expect(Date().timeIntervalSince(start) < 60)
    }

    /// Reproducers from Fuzz/Crashers/FuzzTemplateSource: each trapped, faulted or allocated
    /// gigabytes before it was fixed.
    @Test("hostile templates fail with a TemplateError (libFuzzer findings)", arguments: [
        ("{{ 'x' * 9223372036854775807 }}", TemplateError.Kind.limit),   // step counter overflowed
        ("{{ [1] * 9223372036854775807 }}", .limit),
        ("{{ 'ab'.ljust(9223372036854775807) }}", .limit),               // String(repeating:) of any size
        ("{{ 'a'.center(3000000000) }}", .limit),
        ("{{ 'a'.rjust(9223372036854775807, '-') }}", .limit),
        ("{{ '%@d' % 5 }}", .runtime),                                   // %@ read the Int as an object
        ("{{ '%99999999d' % 1 }}", .limit),
        ("{{ '%.99999999f' % 1.5 }}", .limit),
        ("{{ '%d' % (1e300 * 1e300) }}", .runtime),                       // Int(Double) trapped
    ])
    func hostileTemplates(source: String, kind: TemplateError.Kind) {
        let e = error { try render(source) }
        #expect(e?.kind == kind, "\(source): \(String(describing: e))")
    }

    @Test("int filter: a base outside 2...36 is Python's ValueError, so jinja2's fallback answers")
    func intFilterBadBase() throws {
        #expect(try render("{{ 'a'|int(0, 160) }}|{{ '42'|int(7, 1) }}|{{ '1A'|int(0, -5) }}|{{ '1A'|int(0, 16) }}") == "0|42|0|26")
        #expect(try render("{{ '%5d|%-4d|%06.2f' % (3, 7, 2.5) }}") == "    3|7   |002.50")
    }
}

/// Deterministic generator for the fuzz test.
struct SystemRandomNumberGeneratorSeeded: RandomNumberGenerator {
    var state: UInt64
    init(seed: UInt64) { state = seed }
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
