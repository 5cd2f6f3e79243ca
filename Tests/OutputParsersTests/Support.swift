import OrderedJSON
@testable import OutputParsers

let weatherTools = ToolSpec.list(fromOpenAITools: try! JSONValue.parse("""
[{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {
  "city": {"type": "string"}, "days": {"type": "integer"}, "temp": {"type": "number"}, "hourly": {"type": "boolean"},
  "options": {"type": "object", "properties": {"unit": {"type": "string"}}}, "tags": {"type": "array", "items": {"type": "string"}},
  "note": {"anyOf": [{"type": "string"}, {"type": "null"}]}, "mode": {"enum": ["a", "b"]}, "level": {"enum": [1, 2]},
  "maybe": {"type": ["null", "integer"]}}}}},
 {"type": "function", "function": {"name": "search", "parameters": {"properties": {"query": {"type": "string"}}}}}]
""").arrayValue!)

/// Deterministic ids so streamed and non-streamed results compare equal.
func counterIDs() -> () -> String {
    var n = 0
    return { defer { n += 1 }; return "call_\(n)" }
}

/// What a streaming client ends up with after concatenating every delta.
struct Collected: Equatable, CustomStringConvertible {
    var reasoning = ""
    var content = ""
    var calls: [Int: (id: String, name: String, args: String)] = [:]

    static func == (a: Collected, b: Collected) -> Bool {
        a.reasoning == b.reasoning && a.content == b.content && a.calls.count == b.calls.count &&
            a.calls.allSatisfy { k, v in b.calls[k].map { $0.id == v.id && $0.name == v.name && $0.args == v.args } ?? false }
    }

    var description: String {
        "reasoning=\(reasoning.debugDescription) content=\(content.debugDescription) calls=" +
            calls.keys.sorted().map { "\($0):\(calls[$0]!.name)\(calls[$0]!.args)" }.joined(separator: ",")
    }

    mutating func add(_ d: Glm45Delta) {
        reasoning += d.reasoningContent
        content += d.content
        for t in d.toolCalls {
            if let name = t.name {
                precondition(calls[t.index] == nil, "tool call \(t.index) announced twice")
                calls[t.index] = (t.id ?? "", name, t.arguments)
            } else {
                calls[t.index]!.args += t.arguments
            }
        }
    }

    init() {}

    init(_ p: Glm45ParsedOutput) {
        reasoning = p.reasoningContent ?? ""
        content = p.content ?? ""
        for c in p.toolCalls { calls[c.index] = (c.id, c.name, c.arguments) }
    }
}

struct Options {
    var tools = weatherTools
    var parseToolCalls = true
    var parseReasoning = true
    var promptEndsInThink = false
}

func parseWhole(_ text: String, _ o: Options = Options()) -> Glm45ParsedOutput {
    Glm45OutputParser.parse(text, tools: o.tools, parseToolCalls: o.parseToolCalls, parseReasoning: o.parseReasoning,
                            promptEndsInThink: o.promptEndsInThink, makeID: counterIDs())
}

func parseStream(_ chunks: [String], _ o: Options = Options()) -> (Collected, [ToolCall]) {
    let p = Glm45OutputStreamParser(tools: o.tools, parseToolCalls: o.parseToolCalls, parseReasoning: o.parseReasoning,
                                    promptEndsInThink: o.promptEndsInThink, makeID: counterIDs())
    var c = Collected()
    for chunk in chunks { c.add(p.feed(chunk)) }
    c.add(p.finish())
    return (c, p.toolCalls)
}

/// Splits `text` into pieces at the given Unicode-scalar offsets.
func split(_ text: String, at cuts: [Int]) -> [String] {
    let u = Array(text.unicodeScalars)
    var out: [String] = []
    var last = 0
    for c in cuts.sorted() where c > last && c < u.count {
        var v = String.UnicodeScalarView(); v.append(contentsOf: u[last..<c]); out.append(String(v))
        last = c
    }
    var v = String.UnicodeScalarView(); v.append(contentsOf: u[last...]); out.append(String(v))
    return out
}

/// A small deterministic generator (tests must not depend on the system RNG).
struct SplitMix: RandomNumberGenerator {
    var state: UInt64
    mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }
}
