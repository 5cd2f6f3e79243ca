import FuzzKit
import OrderedJSON
import OutputParsers

/// The GLM-4.5 reasoning and tool-call parsers on any model output, with the invariants that
/// Tests/OutputParsersTests/FuzzTests.swift asserts on random outputs:
/// * streaming the text in pieces cut at fuzz-chosen scalar offsets gives what parsing it whole
///   gives (`Glm45OutputStreamParser` against `Glm45OutputParser.parse`), for each option set;
/// * a tool call is announced once and every call's `arguments` is a JSON object;
/// * with reasoning off, content plus the calls' raw markup keep every non-space character;
/// * the reasoning split only removes white space and the two think tags, and does so the same
///   way however the text is cut.
///
/// Input: one byte of options, one byte of cut count, two bytes per cut, then the text (UTF-8).
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzOutputParsers(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var reader = FuzzReader(Fuzz.bytes(data, size))
    let options = reader.byte()
    let cutCount = Int(reader.byte() % 8)
    var cuts: [Int] = []
    for _ in 0..<cutCount { cuts.append(Int(reader.byte()) << 8 | Int(reader.byte())) }
    let text = String(decoding: reader.rest(), as: UTF8.self)
    let scalarCount = text.unicodeScalars.count
    cuts = cuts.map { scalarCount == 0 ? 0 : $0 % (scalarCount + 1) }
    let pieces = text.pieces(cuttingAt: cuts)

    let parseReasoning = options & 1 == 0
    let parseToolCalls = options & 2 == 0
    let promptEndsInThink = options & 4 != 0
    let tools: [ToolSpec] = switch (options >> 3) & 3 {
    case 0: weatherTools
    case 1: []
    case 2: [ToolSpec(name: "get_weather", parameters: nil), ToolSpec(name: "", parameters: .null)]
    default: weatherTools + [ToolSpec(name: "search", parameters: .string("not a schema"))]
    }

    let whole = Glm45OutputParser.parse(text, tools: tools, parseToolCalls: parseToolCalls, parseReasoning: parseReasoning,
                                        promptEndsInThink: promptEndsInThink, makeID: counterIDs())
    let stream = Glm45OutputStreamParser(tools: tools, parseToolCalls: parseToolCalls, parseReasoning: parseReasoning,
                                         promptEndsInThink: promptEndsInThink, makeID: counterIDs())
    var streamed = Collected()
    for piece in pieces { streamed.add(stream.feed(piece)) }
    streamed.add(stream.finish())
    Fuzz.check(streamed == Collected(whole), "streamed \(streamed) != whole \(Collected(whole)) for \(text.debugDescription) cut at \(cuts.sorted())")
    Fuzz.check(stream.toolCalls.count == whole.toolCalls.count, "streamed parser kept \(stream.toolCalls.count) calls, whole \(whole.toolCalls.count)")

    for call in whole.toolCalls {
        guard case .object? = try? JSONValue.parse(call.arguments) else {
            Fuzz.check(false, "arguments not a JSON object: \(call.arguments.debugDescription) for \(text.debugDescription)")
            return 0
        }
    }
    if !parseReasoning && parseToolCalls {
        let kept = (whole.content ?? "") + whole.toolCalls.map(\.raw).joined()
        Fuzz.check(nonSpace(kept).sorted() == nonSpace(text).sorted(), "lost text in \(text.debugDescription)")
    }

    // The reasoning split on its own: whole against pieces, and what it removes.
    let r = Glm45ReasoningStreamParser(promptEndsInThink: promptEndsInThink)
    let a = r.feed(text), b = r.finish()
    let rs = Glm45ReasoningStreamParser(promptEndsInThink: promptEndsInThink)
    var reasoning = "", answer = ""
    for piece in pieces {
        let d = rs.feed(piece)
        reasoning += d.reasoning; answer += d.answer
    }
    let end = rs.finish()
    reasoning += end.reasoning; answer += end.answer
    Fuzz.check(reasoning == a.reasoning + b.reasoning && answer == a.answer + b.answer,
               "reasoning split depends on the cuts for \(text.debugDescription) cut at \(cuts.sorted())")
    if !promptEndsInThink {
        let removed = nonSpace(text).count - nonSpace(a.reasoning + a.answer + b.reasoning + b.answer).count
        Fuzz.check([0, 7, 8, 15].contains(removed), "reasoning split removed \(removed) characters from \(text.debugDescription)")
    }
    return 0
}

/// Python's `str.isspace`, as the parsers use it.
func isSpace(_ u: Unicode.Scalar) -> Bool { (0x1C...0x1F).contains(u.value) || u.properties.isWhitespace }

func nonSpace(_ s: String) -> [UInt32] { s.unicodeScalars.filter { !isSpace($0) }.map(\.value) }

/// Deterministic ids, so streamed and whole results compare equal.
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
                Fuzz.check(calls[t.index] == nil, "tool call \(t.index) announced twice")
                calls[t.index] = (t.id ?? "", name, t.arguments)
            } else {
                Fuzz.check(calls[t.index] != nil, "arguments for tool call \(t.index) before its name")
                calls[t.index]?.args += t.arguments
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

/// The tools of Tests/OutputParsersTests/Support.swift: every argument type the parser types.
let weatherTools = ToolSpec.list(fromOpenAITools: try! JSONValue.parse("""
[{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object", "properties": {
  "city": {"type": "string"}, "days": {"type": "integer"}, "temp": {"type": "number"}, "hourly": {"type": "boolean"},
  "options": {"type": "object", "properties": {"unit": {"type": "string"}}}, "tags": {"type": "array", "items": {"type": "string"}},
  "note": {"anyOf": [{"type": "string"}, {"type": "null"}]}, "mode": {"enum": ["a", "b"]}, "level": {"enum": [1, 2]},
  "maybe": {"type": ["null", "integer"]}}}}},
 {"type": "function", "function": {"name": "search", "parameters": {"properties": {"query": {"type": "string"}}}}}]
""").arrayValue!)

@main enum FuzzOutputParsersMain {
    static func main() { Fuzz.main(fuzzOutputParsers) }
}
