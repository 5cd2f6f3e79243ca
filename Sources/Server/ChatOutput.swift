import OpenAIAPI
import OutputParsers

/// Turns one choice's output text into OpenAI message pieces with SGLang's glm45 parsers:
/// reasoning into `reasoning_content`, GLM tool-call markup into `tool_calls`, the rest into
/// `content`. Without parsers the text is the content, unchanged. Calls to functions the request
/// did not declare are dropped (SGLang's behaviour), as are calls after the first with
/// `parallel_tool_calls: false`; the remaining calls are numbered from 0.
final class ChatChoiceOutput {
    private let parser: Glm45OutputStreamParser?
    private let parsing: ChatPlan.OutputParsing
    private var outputIndex: [Int: Int] = [:]
    private var dropped: Set<Int> = []
    private(set) var content = ""
    private(set) var reasoning = ""

    init(_ parsing: ChatPlan.OutputParsing) {
        self.parsing = parsing
        parser = parsing.usesParser
            ? Glm45OutputStreamParser(tools: parsing.tools,
                                      parseToolCalls: parsing.parseToolCalls, parseReasoning: parsing.parseReasoning,
                                      promptEndsInThink: parsing.promptEndsInThink,
                                      trimsContent: !parsing.continuesFinalMessage)
            : nil
    }

    /// The delta for new text (fields nil when they have nothing new).
    func feed(_ text: String) -> ChatDelta {
        guard let parser else {
            content += text
            return ChatDelta(content: text.isEmpty ? nil : text)
        }
        return delta(parser.feed(text))
    }

    /// Flushes what the parsers held back.
    func finish() -> ChatDelta {
        guard let parser else { return ChatDelta() }
        return delta(parser.finish())
    }

    /// Tool calls of declared functions, in order.
    var toolCalls: [ToolCallOut] {
        guard let parser else { return [] }
        let kept = parser.toolCalls.filter { !dropped.contains($0.index) && accepts($0.name) }
            .map { ToolCallOut(id: $0.id, name: $0.name, arguments: $0.arguments) }
        return Array(kept.prefix(parsing.maxToolCalls ?? .max))
    }

    /// The whole message (non-streaming), after `finish()`.
    var message: AssistantMessage {
        let calls = toolCalls
        // OpenAI: content is null in a message that only calls tools.
        return AssistantMessage(content: content.isEmpty && !calls.isEmpty ? nil : content,
                                reasoningContent: reasoning.isEmpty ? nil : reasoning,
                                toolCalls: calls.isEmpty ? nil : calls)
    }

    /// OpenAI's finish_reason: "tool_calls" when a stop ended a turn that called tools.
    func finishReason(_ kind: FinishKind) -> String {
        switch kind {
        case .length: "length"
        case .stop, .stopString: toolCalls.isEmpty ? "stop" : "tool_calls"
        }
    }

    private func accepts(_ name: String) -> Bool { parsing.toolNames.contains(name) }

    private func delta(_ d: Glm45Delta) -> ChatDelta {
        content += d.content
        reasoning += d.reasoningContent
        var calls: [ToolCallChunk] = []
        for c in d.toolCalls {
            if let name = c.name {
                guard accepts(name), outputIndex.count < parsing.maxToolCalls ?? .max else { dropped.insert(c.index); continue }
                outputIndex[c.index] = outputIndex.count
            }
            guard !dropped.contains(c.index), let index = outputIndex[c.index] else { continue }
            calls.append(ToolCallChunk(index: index, id: c.id, name: c.name, arguments: c.arguments))
        }
        return ChatDelta(content: d.content.isEmpty ? nil : d.content,
                         reasoningContent: d.reasoningContent.isEmpty ? nil : d.reasoningContent,
                         toolCalls: calls.isEmpty ? nil : calls)
    }
}
