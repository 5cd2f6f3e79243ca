@testable import Constraints
import Engine
import Foundation
import OpenAIAPI
@testable import Server
import Testing

@Suite("Stop strings")
struct StopStringTests {
    @Test("a stop string split across pieces is held back and cut")
    func split() {
        var m = StopStringMatcher(["STOP", "xyz"])
        var out = ""
        for piece in ["Hello S", "T", "O", "P and more"] {
            let (text, matched) = m.feed(piece)
            out += text
            if matched { break }
        }
        #expect(out == "Hello ")
        #expect(m.matched)
    }

    @Test("a partial match that fails is released; flush releases the rest")
    func release() {
        var m = StopStringMatcher(["STOP"])
        #expect(m.feed("ST").0 == "")
        #expect(m.feed("x").0 == "STx")
        #expect(m.feed("S").0 == "")
        #expect(m.flush() == "S")
    }

    @Test("the earliest of several stop strings wins; no stops passes text through")
    func earliest() {
        var m = StopStringMatcher(["b", "abc"])
        #expect(m.feed("xxabc") == ("xx", true), "the match that starts first wins, so no stop string is ever returned")
        #expect(m.matchedStop == "abc")
        var none = StopStringMatcher([])
        #expect(none.feed("abc") == ("abc", false))
    }

    @Test("matching is by Unicode scalar, like Python")
    func scalars() {
        var m = StopStringMatcher(["e"])
        #expect(m.feed("cafe\u{301}") == ("caf", true))
    }
}

@Suite("Logit processors")
struct ProcessorTests {
    @Test("presence and frequency count generated tokens; repetition covers the prompt")
    func penalties() {
        var p = PenaltyProcessor(prompt: [0], presence: 0.5, frequency: 0.25, repetition: 2)
        p.didSample(1)
        p.didSample(1)
        var logits: [Float] = [4, 4, -4, 4]
        p.process(&logits, generated: [1, 1])
        #expect(logits == [2, 2 - 0.5 - 0.5, -4, 4])
        #expect(!PenaltyProcessor(prompt: [], presence: 0, frequency: 0, repetition: 1).isActive)
    }

    @Test("logit bias adds to the given tokens only")
    func bias() {
        var b = LogitBiasProcessor(bias: [2: -100, 7: 5])
        var logits: [Float] = [0, 0, 0]
        b.process(&logits, generated: [])
        #expect(logits == [0, 0, -100])
    }

    @Test("a trie offers only tokens that lead to an entry")
    func trie() {
        let t = TokenTrie([[1, 2, 3], [1, 4], [5]])
        #expect(Set(t.nextTokens(from: TokenTrie.root)) == [1, 5])
        let one = t.child(TokenTrie.root, 1)!
        #expect(Set(t.nextTokens(from: one)) == [2, 4])
        #expect(Set(t.nextTokens(from: one, allowed: [1])) == [4])
        #expect(t.entry(endingAt: t.child(one, 4)!) == 1)
    }

    // Token ids for a synthetic grammar: 0-9 ordinary text, 10 "\n", 20.. markup, 30 stop.
    static let tokens = ToolCallGrammar.Tokens(newline: 10, toolCallStart: 20, toolCallEnd: 21, argKeyStart: 22,
                                               argKeyEnd: 23, argValueStart: 24, argValueEnd: 25, thinkEnd: 26)
    static func grammar(multiple: Bool = true) -> ToolCallGrammar {
        ToolCallGrammar(
            functions: [
                .init(name: "ab", nameTokens: [1, 2, 10], properties: [("k", [3]), ("kk", [3, 3])], required: ["kk"]),
                .init(name: "c", nameTokens: [4, 10], properties: [], required: []),
            ],
            tokens: tokens, stopTokens: [30], markupTokens: Set(20...29), allowsMultipleCalls: multiple)
    }

    static func decode(_ c: inout ToolCallConstraint, preference: [Int], steps: Int) -> [Int] {
        greedyDecode(&c, vocabulary: 32, stop: 30, preference: preference, steps: steps)
    }

    @Test("the forced call: newline, <tool_call>, a declared name, required keys, then a stop token")
    func forcedCall() {
        var c = ToolCallConstraint(grammar: Self.grammar(multiple: false), startsInReasoning: false)
        // This model would rather stop, then write text.
        let out = Self.decode(&c, preference: [30, 25, 21, 23, 5, 1, 2, 3, 22, 10, 20, 24, 4], steps: 40)
        // "\n" <tool_call> a b "\n" <arg_key> k k </arg_key> "\n" <arg_value> 5.. </arg_value> ...
        #expect(Array(out.prefix(5)) == [10, 20, 1, 2, 10])
        #expect(c.currentFunction == "ab")
        #expect(out[5] == 22, "kk is required, so </tool_call> may not come yet")
        #expect(out.last == 30)
        #expect(out.contains(21))
    }

    @Test("a function without parameters closes at once; multiple calls allowed when parallel")
    func noParameters() {
        var c = ToolCallConstraint(grammar: Self.grammar(), startsInReasoning: false)
        let out = Self.decode(&c, preference: [4, 21, 10, 20, 30], steps: 20)
        #expect(Array(out.prefix(5)) == [10, 20, 4, 10, 21])
        // After </tool_call> the model prefers "\n": another call starts.
        #expect(out[5] == 10 && out[6] == 20)
    }

    @Test("with thinking on, generation is free (but cannot stop) until </think>")
    func reasoningFirst() {
        var c = ToolCallConstraint(grammar: Self.grammar(), startsInReasoning: true)
        var logits = [Float](repeating: 0, count: 32)
        logits[30] = 9
        c.process(&logits, generated: [])
        #expect(logits[30] == -.infinity)
        #expect(logits[5] == 0)
        c.didSample(5)
        c.didSample(26)
        var next = [Float](repeating: 0, count: 32)
        c.process(&next, generated: [5, 26])
        #expect(next.indices.filter { next[$0] > -.infinity } == [10])
    }
}

/// Runs a constraint against a "model" that prefers tokens in `preference` order, until `stop`.
func greedyDecode(_ c: inout some LogitProcessor, vocabulary: Int, stop: Int, preference: [Int], steps: Int) -> [Int] {
    var out: [Int] = []
    for _ in 0..<steps {
        var logits = [Float](repeating: 0, count: vocabulary)
        for (rank, t) in preference.enumerated() { logits[t] = Float(100 - rank) }
        c.process(&logits, generated: out)
        let token = logits.indices.max { logits[$0] < logits[$1] }!
        c.didSample(token)
        out.append(token)
        if token == stop { break }
    }
    return out
}

@Suite("JSON object constraint")
struct JSONObjectConstraintTests {
    /// Feeds `text`; the index of the first byte refused, or nil.
    static func firstRefusal(_ text: String) -> (refusedAt: Int?, complete: Bool) {
        var json = JSONObjectPrefix()
        for (i, b) in text.utf8.enumerated() where !json.feed(b) { return (i, false) }
        return (nil, json.isComplete)
    }

    @Test("whole objects as json.dumps writes them are accepted and complete; their prefixes are incomplete")
    func valid() {
        for text in [#"{}"#, #"{"a": 1}"#, #" {"a": [1, -2.5e+3, 0.25, true, false, null, {"b": []}], "c": "x\"\u00e9\n"}"#,
                     "{\n  \"k\": {\n    \"z\": -0\n  }\n} \n", #"{"é": "日本", "n": 10E-2}"#] {
            #expect(Self.firstRefusal(text) == (nil, true), "\(text)")
            for cut in 1..<text.utf8.count where !text.utf8.dropFirst(cut).allSatisfy({ $0 == 0x20 || $0 == 0x0A }) {
                let prefix = String(decoding: Array(text.utf8.prefix(cut)), as: UTF8.self)
                #expect(Self.firstRefusal(prefix) == (nil, false), "\(prefix)")
            }
        }
    }

    @Test("what is not a JSON object is refused at the first byte that rules it out")
    func invalid() {
        for (text, at) in [("[1]", 0), (#"{"a" 1}"#, 5), (#"{"a": 01}"#, 7), (#"{"a": 1,}"#, 8), (#"{'a': 1}"#, 1),
                           (#"{"a": tru}"#, 9), (#"{"a": 1} x"#, 9), (#"{"a": "\x"}"#, 8), (#"{"a": -}"#, 7),
                           (#"{"a": 1.}"#, 8), (#"{"a": 1e}"#, 8), (#"{"a": [1 2]}"#, 9), ("{\"a\": \"\n\"}", 7)] {
            #expect(Self.firstRefusal(text).refusedAt == at, "\(text)")
        }
    }

    /// Vocabulary: 0 `{`, 1 `}`, 2 `"a"`, 3 `:`, 4 ` 1`, 5 `x`, 6 `, `, 7 `[1]`, 8 <stop>, 9 </think>, 10 `"`.
    static let vocabulary = TokenByteTable(count: 11) { id in
        id == 8 || id == 9 ? nil : Array(["{", "}", "\"a\"", ":", " 1", "x", ", ", "[1]", "", "", "\""][id].utf8)
    }

    static func decode(_ c: inout JSONConstraint, preference: [Int]) -> [Int] {
        greedyDecode(&c, vocabulary: 11, stop: 8, preference: preference, steps: 30)
    }

    @Test("decoding is steered into one object, then a stop token")
    func steered() {
        var c = JSONConstraint.object(vocabulary: Self.vocabulary, stopTokens: [8], thinkEnd: 9, startsInReasoning: false)
        // This model would rather stop, write "x" or "}" than open the object.
        let out = Self.decode(&c, preference: [8, 5, 1, 0, 2, 3, 7, 4, 6])
        #expect(out == [0, 1, 8])
        var keyed = JSONConstraint.object(vocabulary: Self.vocabulary, stopTokens: [8], thinkEnd: 9, startsInReasoning: false)
        #expect(Self.decode(&keyed, preference: [8, 5, 2, 3, 7, 1, 0, 6]) == [0, 2, 3, 2, 1, 8])   // {"a":"a"}
    }

    @Test("with thinking on, the object starts after </think>, and stopping is refused until then")
    func afterThinking() {
        var c = JSONConstraint.object(vocabulary: Self.vocabulary, stopTokens: [8], thinkEnd: 9, startsInReasoning: true)
        var logits = [Float](repeating: 0, count: 11)
        c.process(&logits, generated: [])
        #expect(logits[8] == -.infinity && logits[5] == 0)
        c.didSample(5)
        c.didSample(9)
        var next = [Float](repeating: 0, count: 11)
        c.process(&next, generated: [5, 9])
        #expect(next.indices.filter { next[$0] > -.infinity } == [0])
    }
}

@Suite("OpenAI DTOs")
struct APITests {
    @Test("decoding errors become 400s naming the field")
    func decodingErrors() throws {
        func error(_ json: String) -> APIError? {
            do { _ = try decodeRequest(ChatCompletionRequest.self, from: Data(json.utf8)); return nil } catch let e as APIError {
                return e
            } catch { return nil }
        }
        #expect(error(#"{"messages": [{"role": "user", "content": "x"}], "n": "two"}"#)?.param == "n")
        #expect(error(#"{"messages": [{"role": "user"}], "max_tokens": 1.5}"#)?.status == 400)
        #expect(error(#"{"messages": [{"role": 1}]}"#)?.param == "messages[0].role")
        #expect(error(#"{}"#)?.param == "messages")
        #expect(error(#"{"#)?.code == "invalid_json")
    }

    @Test("error bodies carry explicit nulls")
    func errorBody() throws {
        let data = try JSONEncoder().encode(APIError.invalidRequest("bad").body)
        let o = try JSONSerialization.jsonObject(with: data) as! [String: [String: Any]]
        #expect(o["error"]?["param"] is NSNull)
        #expect(o["error"]?["code"] is NSNull)
        #expect(o["error"]?["message"] as? String == "bad")
    }

    @Test("tool_choice forms")
    func toolChoice() throws {
        func decode(_ s: String) throws -> ToolChoice { try JSONDecoder().decode(ToolChoice.self, from: Data(s.utf8)) }
        #expect(try decode(#""required""#) == .required)
        #expect(try decode(#"{"type": "function", "function": {"name": "f"}}"#) == .function("f"))
        #expect(throws: (any Error).self) { try decode(#""maybe""#) }
    }
}

@Suite("Model path")
struct ModelLocatorTests {
    @Test("a repo id resolves through the Hugging Face cache; a missing one says where it looked")
    func hubCache() throws {
        let root = FileManager.default.temporaryDirectory.appendingPathComponent("glm-hf-\(UUID().uuidString)")
        defer { try? FileManager.default.removeItem(at: root) }
        let snapshot = root.appendingPathComponent("hub/models--zai-org--GLM-4.5-Air-FP8/snapshots/abc123")
        try FileManager.default.createDirectory(at: snapshot, withIntermediateDirectories: true)
        try Data("{}".utf8).write(to: snapshot.appendingPathComponent("config.json"))
        let refs = root.appendingPathComponent("hub/models--zai-org--GLM-4.5-Air-FP8/refs")
        try FileManager.default.createDirectory(at: refs, withIntermediateDirectories: true)
        try Data("abc123".utf8).write(to: refs.appendingPathComponent("main"))
        let env = ["HF_HOME": root.path, "HOME": "/nonexistent"]
        let url = try ModelLocator.resolve("zai-org/GLM-4.5-Air-FP8", environment: env)
        #expect(url.standardizedFileURL.path == snapshot.standardizedFileURL.path)
        #expect(try ModelLocator.resolve(snapshot.path, environment: env).path == snapshot.path)
        do {
            _ = try ModelLocator.resolve("zai-org/GLM-4.5", environment: env)
            Issue.record("expected an error")
        } catch let e as ModelLocatorError {
            #expect(e.message.contains(root.appendingPathComponent("hub/models--zai-org--GLM-4.5").path))
            #expect(e.message.contains("huggingface-cli download zai-org/GLM-4.5"))
        }
    }
}
