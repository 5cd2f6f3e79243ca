import Testing
@testable import OutputParsers

/// Exact results for representative GLM-4.5 outputs (non-streaming).
@Suite("GLM-4.5 output parsing")
struct Glm45ParserTests {
    struct Case: CustomStringConvertible {
        let text: String
        var reasoning: String? = nil
        var content: String? = nil
        var calls: [(String, String)] = []
        var complete = true
        var options = Options()
        var description: String { text.debugDescription }
    }

    static let call1 = "<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Paris</arg_value>\n<arg_key>days</arg_key>\n<arg_value>2</arg_value>\n</tool_call>"

    static let cases: [Case] = [
        Case(text: "Hello there.", content: "Hello there."),
        Case(text: "\n<think>Let me think.\n</think>\nThe answer is 4.", reasoning: "Let me think.", content: "The answer is 4."),
        Case(text: "\n<think>Need weather.</think>\n" + call1, reasoning: "Need weather.",
             calls: [("get_weather", #"{"city": "Paris", "days": 2}"#)]),
        Case(text: "Let me check.\n" + call1 + "\nDone.", content: "Let me check.\n\nDone.",
             calls: [("get_weather", #"{"city": "Paris", "days": 2}"#)]),
        Case(text: call1 + "\n<tool_call>search\n<arg_key>query</arg_key>\n<arg_value>swift 6</arg_value>\n</tool_call>",
             calls: [("get_weather", #"{"city": "Paris", "days": 2}"#), ("search", #"{"query": "swift 6"}"#)]),
        Case(text: "<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Par", calls: [("get_weather", #"{"city": "Par"}"#)], complete: false),
        Case(text: "<tool_call>get_weather\n<arg_key>ci", calls: [("get_weather", "{}")], complete: false),
        Case(text: "<tool_call>get_weather\n<arg_key>city</arg_key>", calls: [("get_weather", "{}")], complete: false),
        Case(text: "<tool_call>get_weather\n<arg_key>days</arg_key>\n<arg_value>12", calls: [("get_weather", #"{"days": 12}"#)], complete: false),
        Case(text: "<tool_call>get_wea", content: "<tool_call>get_wea"),
        Case(text: "Text <tool_call>", content: "Text <tool_call>"),
        Case(text: "<tool_call>\n<arg_key>x</arg_key>", content: "<tool_call>\n<arg_key>x</arg_key>"),
        Case(text: "<tool_call></tool_call> after", content: "<tool_call></tool_call> after"),
        Case(text: "stray </tool_call> and <arg_key>", content: "stray </tool_call> and <arg_key>"),
        Case(text: "<think>still thinking", reasoning: "still thinking"),
        Case(text: "<think></think>\nHi", content: "Hi"),
        Case(text: "  <think>\n\n</think>", content: nil),
        Case(text: "Hi <think>not reasoning</think>", content: "Hi <think>not reasoning</think>"),
        Case(text: "reasoning here</think>\nanswer", reasoning: "reasoning here", content: "answer",
             options: Options(promptEndsInThink: true)),
        Case(text: "<think>plan<tool_call>search\n</tool_call>", reasoning: "plan", calls: [("search", "{}")]),
        Case(text: "<think>a</think>b", reasoning: nil, content: "<think>a</think>b", options: Options(parseReasoning: false)),
        Case(text: "x " + call1, content: "x " + call1, options: Options(parseToolCalls: false)),
        // GLM-4.7 style (no newlines) and literal "\n" separators
        Case(text: "<tool_call>get_weather<arg_key>city</arg_key><arg_value>Rome</arg_value><arg_key>days</arg_key><arg_value>3</arg_value></tool_call>",
             calls: [("get_weather", #"{"city": "Rome", "days": 3}"#)]),
        Case(text: "<tool_call>get_weather\\n<arg_key>city</arg_key>\\n<arg_value>Oslo</arg_value>\\n</tool_call>",
             calls: [("get_weather", #"{"city": "Oslo"}"#)]),
        Case(text: "<tool_call>\n\nsearch \n<arg_key> query </arg_key>  <arg_value> spaced  </arg_value></tool_call>",
             calls: [("search", #"{"query": " spaced  "}"#)]),
        // typing by schema (SGLang glm45 semantics)
        Case(text: typed([("temp", "3.50"), ("hourly", "true"), ("options", #"{"unit":"c"}"#), ("tags", #"["x","y"]"#)]),
             calls: [("get_weather", #"{"temp": 3.5, "hourly": true, "options": {"unit": "c"}, "tags": ["x", "y"]}"#)]),
        Case(text: typed([("city", "123"), ("city", "true"), ("city", "\"quoted\""), ("city", #"{"a":1}"#), ("city", "'single'")]),
             calls: [("get_weather", #"{"city": "123", "city": "true", "city": "quoted", "city": "{\"a\": 1}", "city": "single"}"#)]),
        Case(text: typed([("days", "007"), ("days", "abc"), ("temp", "\"2.5\""), ("hourly", "True"), ("maybe", "null")]),
             calls: [("get_weather", #"{"days": "007", "days": "abc", "temp": 2.5, "hourly": true, "maybe": null}"#)]),
        Case(text: typed([("unknown", "abc"), ("unknown", "[1, 2.0]"), ("unknown", "{'k': None}"), ("unknown", "(1, 'a')"), ("unknown", "1e3")]),
             calls: [("get_weather", #"{"unknown": "abc", "unknown": [1, 2.0], "unknown": {"k": null}, "unknown": [1, "a"], "unknown": 1000.0}"#)]),
        Case(text: typed([("note", "free text"), ("mode", "a"), ("level", "2"), ("city", "line1\nline2 \"q\" \\ é\t")]),
             calls: [("get_weather", #"{"note": "free text", "mode": "a", "level": 2, "city": "line1\nline2 \"q\" \\ é\t"}"#)]),
        Case(text: typed([("city", ""), ("days", ""), ("city", "  ")]),
             calls: [("get_weather", #"{"city": "", "days": "", "city": "  "}"#)]),
        Case(text: typed([("days", "123456789012345678901234567890"), ("temp", "1e400"), ("temp", "0.1")]),
             calls: [("get_weather", #"{"days": 123456789012345678901234567890, "temp": Infinity, "temp": 0.1}"#)]),
        Case(text: "<tool_call>unknown_tool\n<arg_key>a</arg_key>\n<arg_value>{\"x\": [1, {\"y\": null}]}</arg_value>\n</tool_call>",
             calls: [("unknown_tool", #"{"a": {"x": [1, {"y": null}]}}"#)]),
        Case(text: "<tool_call>get_weather\n<arg_key>city</arg_key>junk<arg_value>Nice</arg_value>garbage</tool_call>",
             calls: [("get_weather", #"{"city": "Nice"}"#)]),
        Case(text: "<tool_call>search\n<arg_key>query</arg_key>\n<arg_value>a </tool_call> b</arg_value>\n</tool_call>",
             calls: [("search", #"{"query": "a </tool_call> b"}"#)]),
        Case(text: "用户 😀\n<tool_call>search\n<arg_key>query</arg_key>\n<arg_value>北京 e\u{301}</arg_value>\n</tool_call>",
             content: "用户 😀", calls: [("search", "{\"query\": \"北京 e\u{301}\"}")]),
    ]

    static func typed(_ pairs: [(String, String)]) -> String {
        "<tool_call>get_weather\n" + pairs.map { "<arg_key>\($0.0)</arg_key>\n<arg_value>\($0.1)</arg_value>\n" }.joined() + "</tool_call>"
    }

    @Test("exact non-streaming results", arguments: cases)
    func exact(_ c: Case) {
        let r = parseWhole(c.text, c.options)
        #expect(r.reasoningContent == c.reasoning)
        #expect(r.content == c.content)
        #expect(r.toolCalls.map(\.name) == c.calls.map(\.0))
        #expect(r.toolCalls.map(\.arguments) == c.calls.map(\.1))
        #expect(r.toolCalls.map(\.index) == Array(0..<c.calls.count))
        if let last = r.toolCalls.last { #expect(last.complete == c.complete) }
    }

    @Test("streaming equals non-streaming for every two-way split and one scalar at a time", arguments: cases)
    func everySplit(_ c: Case) {
        let whole = Collected(parseWhole(c.text, c.options))
        let n = c.text.unicodeScalars.count
        for cut in 0...n {
            let (s, _) = parseStream(split(c.text, at: [cut]), c.options)
            #expect(s == whole, "split at \(cut): \(s) vs \(whole)")
        }
        let (one, calls) = parseStream(split(c.text, at: Array(0...n)), c.options)
        #expect(one == whole, "one scalar at a time: \(one) vs \(whole)")
        #expect(calls.map(\.arguments) == c.calls.map(\.1))
        let (chars, _) = parseStream(c.text.map { String($0) }, c.options)
        #expect(chars == whole, "one Character at a time")
    }

    @Test("ids are unique and OpenAI-shaped; the name comes first with empty arguments")
    func deltasShape() {
        let p = Glm45OutputStreamParser(tools: weatherTools)
        var deltas: [ToolCallDelta] = []
        for ch in (Self.call1 + Self.call1) { deltas += p.feed(String(ch)).toolCalls }
        deltas += p.finish().toolCalls
        let headers = deltas.filter { $0.name != nil }
        #expect(headers.count == 2)
        #expect(headers.allSatisfy { $0.arguments.isEmpty && $0.id!.hasPrefix("call_") && $0.id!.count == 29 })
        #expect(headers[0].id != headers[1].id)
        #expect(deltas.first?.name == "get_weather")
        #expect(deltas.filter { $0.index == 0 }.map(\.arguments).joined() == #"{"city": "Paris", "days": 2}"#)
        // String values stream before their closing tag arrives.
        let q = Glm45OutputStreamParser(tools: weatherTools)
        _ = q.feed("<tool_call>get_weather\n<arg_key>city</arg_key>\n<arg_value>Pa")
        #expect(q.feed("ri").toolCalls.map(\.arguments) == ["ri"])
    }

    @Test("raw markup is kept on each call")
    func rawKept() {
        let r = parseWhole("pre " + Self.call1 + " post")
        #expect(r.toolCalls.first?.raw == Self.call1)
        #expect(r.content == "pre  post")
    }

    @Test("a continuation keeps its white space, streamed or whole; other content is trimmed")
    func continuationKeepsSpace() {
        let text = " is 4.\n"
        let whole = Glm45OutputParser.parse(text)
        #expect(whole.content == "is 4.")
        let parser = Glm45OutputStreamParser(tools: [], parseToolCalls: false, trimsContent: false)
        let streamed = text.map { parser.feed(String($0)).content }.joined() + parser.finish().content
        #expect(streamed == text)
    }

    @Test("prompt-state helper")
    func promptState() {
        #expect(Glm45ReasoningStreamParser.promptEndsInsideThink("<|assistant|><think>"))
        #expect(Glm45ReasoningStreamParser.promptEndsInsideThink("<|assistant|>\n<think>\n"))
        #expect(!Glm45ReasoningStreamParser.promptEndsInsideThink("<|assistant|>\n<think></think>"))
        #expect(!Glm45ReasoningStreamParser.promptEndsInsideThink("<|assistant|>"))
    }
}
