/// The whole GLM-4.5 output pipeline: reasoning split first, then tool calls in the answer
/// (spec §8.6). Use `Glm45OutputStreamParser` for streaming and `Glm45OutputParser.parse` for a
/// complete output; both give the same result for the same text.
public final class Glm45OutputStreamParser {
    private let reasoning: Glm45ReasoningStreamParser?
    private let tools: Glm45ToolCallStreamParser?
    private var plain = StreamTrimmer()
    private let trimsContent: Bool

    /// - Parameters:
    ///   - tools: the request's tools (for typing argument values).
    ///   - parseToolCalls: false when the request has no tools (or tool_choice "none"): tool
    ///     markup is then left in the content.
    ///   - parseReasoning: false for `separate_reasoning=false`: everything is content.
    ///   - promptEndsInThink: the prompt ended inside an open `<think>` block.
    ///   - trimsContent: false keeps the white space around content without tool calls: the
    ///     output continues text the prompt ends with (`continue_final_message`).
    public init(tools: [ToolSpec] = [], parseToolCalls: Bool = true, parseReasoning: Bool = true,
                promptEndsInThink: Bool = false, trimsContent: Bool = true,
                makeID: @escaping () -> String = ToolCallID.random) {
        self.trimsContent = trimsContent
        self.reasoning = parseReasoning ? Glm45ReasoningStreamParser(promptEndsInThink: promptEndsInThink) : nil
        self.tools = parseToolCalls ? Glm45ToolCallStreamParser(tools: tools, makeID: makeID) : nil
    }

    /// Calls completed so far.
    public var toolCalls: [ToolCall] { tools?.toolCalls ?? [] }

    public func feed(_ text: String) -> Glm45Delta {
        let (r, answer) = reasoning?.feed(text) ?? ("", text)
        return combine(r, tools?.feed(answer), answer)
    }

    public func finish() -> Glm45Delta {
        let (r, answer) = reasoning?.finish() ?? ("", "")
        var d = combine(r, tools?.feed(answer), answer)
        if let end = tools?.finish() {
            d.content += end.content
            d.toolCalls += end.toolCalls
        }
        return d
    }

    private func combine(_ r: String, _ t: Glm45Delta?, _ answer: String) -> Glm45Delta {
        var d = t ?? Glm45Delta()
        if t == nil { d.content = trimsContent ? plain.feed(answer.unicodeScalars) : answer }
        d.reasoningContent = r
        return d
    }
}

public enum Glm45OutputParser {
    /// Parses a complete output (non-streaming response).
    public static func parse(_ text: String, tools: [ToolSpec] = [], parseToolCalls: Bool = true,
                             parseReasoning: Bool = true, promptEndsInThink: Bool = false,
                             makeID: @escaping () -> String = ToolCallID.random) -> Glm45ParsedOutput {
        let p = Glm45OutputStreamParser(tools: tools, parseToolCalls: parseToolCalls, parseReasoning: parseReasoning,
                                        promptEndsInThink: promptEndsInThink, makeID: makeID)
        var d = p.feed(text)
        let end = p.finish()
        d.reasoningContent += end.reasoningContent
        d.content += end.content
        return Glm45ParsedOutput(reasoningContent: d.reasoningContent.isEmpty ? nil : d.reasoningContent,
                                 content: d.content.isEmpty ? nil : d.content, toolCalls: p.toolCalls)
    }
}
