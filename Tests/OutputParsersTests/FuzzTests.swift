import OrderedJSON
@testable import OutputParsers
import Testing

/// Random and truncated outputs: no crash, streaming equals non-streaming for random splits,
/// and no text is lost. Bounded: a fixed number of seeded inputs.
@Suite("GLM-4.5 output parser fuzz")
struct FuzzTests {
    static let pieces = ["<tool_call>", "</tool_call>", "<arg_key>", "</arg_key>", "<arg_value>", "</arg_value>", "<think>",
                         "</think>", "\n", "\\n", "get_weather", "search", "city", "days", "Paris", "2", "{\"a\": [1", "}", "\"",
                         " ", "é", "😀", "<", ">", "/", "tool", "<tool", "_call>", "arg", "'", "[", "\\", "e\u{301}", "\r\n"]

    static func randomText(_ g: inout SplitMix) -> String {
        var s = ""
        for _ in 0..<Int.random(in: 0...40, using: &g) { s += pieces.randomElement(using: &g)! }
        // Truncate at a random scalar, as max_tokens would.
        let u = Array(s.unicodeScalars)
        let cut = Int.random(in: 0...u.count, using: &g)
        var v = String.UnicodeScalarView(); v.append(contentsOf: u[0..<cut])
        return String(v)
    }

    static func nonSpace(_ s: String) -> [Unicode.Scalar] { s.unicodeScalars.filter { !StreamText.isSpace($0) } }

    @Test("random outputs: split-invariant, nothing lost")
    func fuzz() {
        var g = SplitMix(state: 0x5EED)
        for _ in 0..<400 {
            let text = Self.randomText(&g)
            let n = text.unicodeScalars.count
            for options in [Options(), Options(parseReasoning: false), Options(tools: []), Options(promptEndsInThink: true)] {
                let whole = parseWhole(text, options)
                let cuts = (0..<Int.random(in: 0...6, using: &g)).map { _ in Int.random(in: 0...max(n, 1), using: &g) }
                let (streamed, _) = parseStream(split(text, at: cuts), options)
                #expect(streamed == Collected(whole), "\(text.debugDescription) cuts \(cuts)")
                // Every arguments string is a JSON object.
                for c in whole.toolCalls {
                    guard case .object? = try? JSONValue.parse(c.arguments) else {
                        Issue.record("arguments not a JSON object: \(c.arguments) for \(text.debugDescription)")
                        continue
                    }
                }
                if !options.parseReasoning {
                    // Tool parsing loses nothing: content plus raw call markup hold every non-space character.
                    let kept = (whole.content ?? "") + whole.toolCalls.map(\.raw).joined()
                    #expect(Self.nonSpace(kept).map(\.value).sorted() == Self.nonSpace(text).map(\.value).sorted(),
                            "lost text in \(text.debugDescription)")
                }
            }
            // The reasoning split only removes whitespace and the two think tags.
            let r = Glm45ReasoningStreamParser()
            let a = r.feed(text), b = r.finish()
            let kept = Self.nonSpace(a.reasoning + a.answer + b.reasoning + b.answer)
            let all = Self.nonSpace(text)
            #expect([0, 7, 8, 15].contains(all.count - kept.count), "\(text.debugDescription)")
        }
    }

    @Test("long inputs stay linear enough")
    func longInput() {
        let text = String(repeating: "<tool_call>search\n<arg_key>query</arg_key>\n<arg_value>" + String(repeating: "x", count: 2000) + "</arg_value>\n</tool_call>", count: 20)
        let r = parseWhole(text)
        #expect(r.toolCalls.count == 20)
        let (s, _) = parseStream(text.map { String($0) })
        #expect(s.calls.count == 20)
    }
}
