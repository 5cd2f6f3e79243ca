/// A complete tool call, as returned in a non-streaming response.
public struct ToolCall: Equatable, Sendable {
    public let index: Int
    public let id: String
    public let name: String
    /// The arguments as JSON object text (`{"city": "Paris", "days": 2}`).
    public let arguments: String
    /// The model's markup for this call, from `<tool_call>` to `</tool_call>` (or to the end of
    /// the output when it was cut off), so that no generated text is lost.
    public let raw: String
    /// False when the output ended before `</tool_call>` (max_tokens or a stop string).
    public let complete: Bool
}

/// One streamed piece of a tool call, shaped like an OpenAI `delta.tool_calls[]` entry: the first
/// piece of each call carries `id` and `name` (and empty arguments), later ones carry argument
/// text; concatenating a call's `arguments` pieces gives its final arguments JSON.
public struct ToolCallDelta: Equatable, Sendable {
    public let index: Int
    public let id: String?
    public let name: String?
    public let arguments: String
}

/// What one streamed text delta turned into.
public struct Glm45Delta: Equatable, Sendable {
    public var reasoningContent = ""
    public var content = ""
    public var toolCalls: [ToolCallDelta] = []

    public init() {}
    public var isEmpty: Bool { reasoningContent.isEmpty && content.isEmpty && toolCalls.isEmpty }
}

/// A whole model output, split up.
public struct Glm45ParsedOutput: Equatable, Sendable {
    /// The thinking text (`<think>…</think>`), trimmed; nil when there was none.
    public var reasoningContent: String?
    /// The visible answer outside tool calls, trimmed; nil when empty.
    public var content: String?
    public var toolCalls: [ToolCall]
}
