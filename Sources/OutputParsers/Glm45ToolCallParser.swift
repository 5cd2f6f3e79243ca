import OrderedJSON

/// Incremental parser for GLM-4.5/4.6 tool calls (`--tool-call-parser glm45`):
///
///     <tool_call>NAME\n<arg_key>K</arg_key>\n<arg_value>V</arg_value>\n…</tool_call>
///
/// Feed it the detokenizer's text deltas; it returns content text and OpenAI-style tool-call
/// deltas. The name is sent once, as soon as its line ends; arguments are sent as JSON fragments
/// whose concatenation is the call's final arguments JSON. String-typed values stream character
/// by character; other values are typed (per the tool's JSON schema, like SGLang's glm45
/// detector) when they close. Whitespace around tags and literal "\n" (backslash-n) separators
/// are accepted, so GLM-4.7's newline-less form parses too.
///
/// The output never depends on how the text was split into deltas, so a non-streaming parse is
/// simply one `feed` and `finish`. Nothing the model wrote is dropped: text outside calls is
/// content (trimmed at both ends), a `<tool_call>` without a usable name line is content, and
/// each call keeps its raw markup; a call cut off by the end of output is closed and marked
/// incomplete.
public final class Glm45ToolCallStreamParser {
    private enum State { case text, name, between, key, afterKey, value }
    private enum ValueMode { case undecided, streaming, buffered }

    private struct Call {
        let index: Int
        var id = ""
        var name = ""
        var raw = String.UnicodeScalarView()
        var arguments = ""
        var argCount = 0
        var key = ""
        var value = Scalars()
        var valueType: String?
        var mode = ValueMode.undecided
    }

    private static let start = StreamText.scalars("<tool_call>")
    private static let end = StreamText.scalars("</tool_call>")
    private static let keyOpen = StreamText.scalars("<arg_key>")
    private static let keyClose = StreamText.scalars("</arg_key>")
    private static let valueOpen = StreamText.scalars("<arg_value>")
    private static let valueClose = StreamText.scalars("</arg_value>")
    private static let newline = StreamText.scalars("\n")
    private static let escapedNewline = StreamText.scalars("\\n")
    /// A name line longer than this is not a tool call (keeps a stray `<tool_call>` from
    /// swallowing the rest of the answer).
    static let maxNameLength = 256

    private let tools: [String: ToolSpec]
    private let makeID: () -> String
    private var state = State.text
    private var buf = Scalars()
    private var trimmer = StreamTrimmer()
    private var call: Call?
    private var out = Glm45Delta()
    private var finished = false

    /// Calls completed so far, in order.
    public private(set) var toolCalls: [ToolCall] = []

    public init(tools: [ToolSpec], makeID: @escaping () -> String = ToolCallID.random) {
        var byName: [String: ToolSpec] = [:]
        for t in tools where byName[t.name] == nil { byName[t.name] = t }
        self.tools = byName
        self.makeID = makeID
    }

    public func feed(_ text: String) -> Glm45Delta {
        guard !finished else { return Glm45Delta() }
        buf.append(contentsOf: text.unicodeScalars)
        run(final: false)
        return take()
    }

    /// Flushes held-back text and closes a call that was cut off.
    public func finish() -> Glm45Delta {
        guard !finished else { return Glm45Delta() }
        run(final: true)
        switch state {
        case .text, .name: break
        case .between, .key, .afterKey:
            consume(buf.count)   // a partial key or tag: kept in the call's raw text
            closeCall(complete: false)
        case .value:
            finishValue()
            closeCall(complete: false)
        }
        finished = true
        return take()
    }

    private func take() -> Glm45Delta {
        defer { out = Glm45Delta() }
        return out
    }

    // MARK: state machine

    private func run(final: Bool) {
        while true {
            switch state {
            case .text:
                if let i = StreamText.find(buf, Self.start) {
                    emitContent(buf[0..<i])
                    buf.removeFirst(i)
                    call = Call(index: toolCalls.count)
                    consume(Self.start.count)
                    state = .name
                    continue
                }
                let hold = final ? 0 : StreamText.partialSuffix(buf, [Self.start])
                emitContent(buf[0..<(buf.count - hold)])
                buf.removeFirst(buf.count - hold)
                return
            case .name:
                if !parseName(final: final) { return }
            case .between:
                skipSeparators()
                if StreamText.starts(buf, with: Self.keyOpen) { consume(Self.keyOpen.count); state = .key; continue }
                if StreamText.starts(buf, with: Self.end) { consume(Self.end.count); closeCall(complete: true); continue }
                if !skipGarbage(final: final, expecting: [Self.keyOpen, Self.end, Self.escapedNewline]) { return }
            case .key:
                guard let i = StreamText.find(buf, Self.keyClose) else { return }
                call!.key = StreamText.string(buf[0..<i]).trimmingWhitespace()
                consume(i + Self.keyClose.count)
                state = .afterKey
            case .afterKey:
                skipSeparators()
                if StreamText.starts(buf, with: Self.valueOpen) { consume(Self.valueOpen.count); beginValue(); continue }
                if StreamText.starts(buf, with: Self.end) { consume(Self.end.count); closeCall(complete: true); continue }
                if StreamText.starts(buf, with: Self.keyOpen) { consume(Self.keyOpen.count); state = .key; continue }
                if !skipGarbage(final: final, expecting: [Self.valueOpen, Self.end, Self.keyOpen, Self.escapedNewline]) { return }
            case .value:
                if let i = StreamText.find(buf, Self.valueClose) {
                    appendValue(Array(buf[0..<i]))
                    consume(i + Self.valueClose.count)
                    finishValue()
                    state = .between
                    continue
                }
                let hold = final ? 0 : StreamText.partialSuffix(buf, [Self.valueClose])
                appendValue(Array(buf[0..<(buf.count - hold)]))
                consume(buf.count - hold)
                return
            }
        }
    }

    /// Reads the function name line. Returns false when more text is needed.
    private func parseName(final: Bool) -> Bool {
        // Blank lines before the name are allowed; the name ends at a newline (or a literal
        // "\n"), or where the first argument or the end tag starts.
        let tags = [Self.newline, Self.escapedNewline, Self.keyOpen, Self.end]
        let found = StreamText.findFirst(buf, tags)
        let limit = found?.0 ?? buf.count
        let nameText = StreamText.string(buf[0..<limit]).trimmingWhitespace()
        if let (i, tag) = found {
            if nameText.isEmpty && tag < 2 {
                consume(i + tags[tag].count)
                return true
            }
            if nameText.isEmpty || i > Self.maxNameLength { abortCall(); return true }
            startCall(name: nameText)
            consume(tag < 2 ? i + tags[tag].count : i)
            state = .between
            return true
        }
        if final || buf.count > Self.maxNameLength + Self.end.count { abortCall(); return true }
        return false
    }

    /// Whitespace and literal "\n" between tags belong to the markup.
    private func skipSeparators() {
        while !buf.isEmpty {
            if StreamText.isSpace(buf[0]) { consume(1) }
            else if StreamText.starts(buf, with: Self.escapedNewline) { consume(2) }
            else { break }
        }
    }

    /// Drops one unexpected character inside a call (it stays in the call's raw text), unless
    /// the buffer may be the start of an expected tag. Returns false when more text is needed.
    private func skipGarbage(final: Bool, expecting tags: [Scalars]) -> Bool {
        if buf.isEmpty { return false }
        if !final && StreamText.partialSuffix(buf, tags) == buf.count { return false }
        consume(1)
        return true
    }

    private func consume(_ n: Int) {
        if call != nil { call!.raw.append(contentsOf: buf[0..<n]) }
        buf.removeFirst(n)
    }

    private func emitContent<C: Collection>(_ chunk: C) where C.Element == Unicode.Scalar {
        out.content += trimmer.feed(chunk)
    }

    /// A `<tool_call>` that never got a usable name is ordinary text after all.
    private func abortCall() {
        if let c = call { out.content += trimmer.feed(c.raw) }
        call = nil
        state = .text
    }

    private func startCall(name: String) {
        call!.name = name
        call!.id = makeID()
        out.toolCalls.append(ToolCallDelta(index: call!.index, id: call!.id, name: name, arguments: ""))
    }

    private func emitArguments(_ s: String) {
        guard !s.isEmpty else { return }
        call!.arguments += s
        out.toolCalls.append(ToolCallDelta(index: call!.index, id: nil, name: nil, arguments: s))
    }

    private func beginValue() {
        let type = tools[call!.name]?.argumentType(call!.key)
        call!.valueType = type
        call!.value = []
        call!.mode = type == "string" ? .undecided : .buffered
        emitArguments((call!.argCount == 0 ? "{" : ", ") + PythonJSON.quote(call!.key) + ": ")
        call!.argCount += 1
        state = .value
    }

    private func appendValue(_ chunk: Scalars) {
        guard !chunk.isEmpty else { return }
        call!.value.append(contentsOf: chunk)
        switch call!.mode {
        case .buffered: break
        case .streaming: emitArguments(PythonJSON.escape(StreamText.string(chunk)))
        case .undecided:
            guard let first = call!.value.first(where: { !StreamText.isSpace($0) }) else { return }
            if ArgumentTyping.stringNeedsBuffering(firstNonSpace: first) {
                call!.mode = .buffered
            } else {
                call!.mode = .streaming
                emitArguments("\"" + PythonJSON.escape(StreamText.string(call!.value)))
            }
        }
    }

    private func finishValue() {
        if call!.mode == .streaming {
            emitArguments("\"")
        } else {
            emitArguments(ArgumentTyping.json(raw: StreamText.string(call!.value), type: call!.valueType).pythonJSON())
        }
        call!.mode = .undecided
    }

    private func closeCall(complete: Bool) {
        guard let c = call else { return }
        emitArguments(c.argCount == 0 ? "{}" : "}")
        let done = call!
        toolCalls.append(ToolCall(index: done.index, id: done.id, name: done.name, arguments: done.arguments,
                                  raw: String(done.raw), complete: complete))
        call = nil
        state = .text
    }
}
