// `POST /v1/chat/completions`: request, response and stream chunk, in OpenAI's shapes plus the
// SGLang extensions GLM clients send (top_k, min_p, repetition_penalty, stop_token_ids,
// chat_template_kwargs, separate_reasoning, skip_special_tokens) and vLLM's assistant prefill
// (continue_final_message, add_generation_prompt).

// MARK: - Request

public struct ChatCompletionRequest: Decodable, Sendable {
    public var model: String?
    public var messages: [ChatMessage]
    public var tools: [Tool]?
    public var toolChoice: ToolChoice?
    public var parallelToolCalls: Bool?
    public var sampling: SamplingFields
    public var maxTokens: Int?
    public var maxCompletionTokens: Int?
    public var n: Int?
    public var logprobs: Bool?
    public var topLogprobs: Int?
    public var stream: Bool?
    public var streamOptions: StreamOptions?
    public var chatTemplateKwargs: JSON?
    public var separateReasoning: Bool?
    public var skipSpecialTokens: Bool?
    public var responseFormat: ResponseFormat?
    public var continueFinalMessage: Bool?
    public var addGenerationPrompt: Bool?

    enum CodingKeys: String, CodingKey {
        case model, messages, tools, n, logprobs, stream
        case toolChoice = "tool_choice"
        case parallelToolCalls = "parallel_tool_calls"
        case maxTokens = "max_tokens"
        case maxCompletionTokens = "max_completion_tokens"
        case topLogprobs = "top_logprobs"
        case streamOptions = "stream_options"
        case chatTemplateKwargs = "chat_template_kwargs"
        case separateReasoning = "separate_reasoning"
        case skipSpecialTokens = "skip_special_tokens"
        case responseFormat = "response_format"
        case continueFinalMessage = "continue_final_message"
        case addGenerationPrompt = "add_generation_prompt"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decodeIfPresent(String.self, forKey: .model)
        messages = try c.decode([ChatMessage].self, forKey: .messages)
        tools = try c.decodeIfPresent([Tool].self, forKey: .tools)
        toolChoice = try c.decodeIfPresent(ToolChoice.self, forKey: .toolChoice)
        parallelToolCalls = try c.decodeIfPresent(Bool.self, forKey: .parallelToolCalls)
        sampling = try SamplingFields(from: decoder)
        maxTokens = try c.decodeIfPresent(Int.self, forKey: .maxTokens)
        maxCompletionTokens = try c.decodeIfPresent(Int.self, forKey: .maxCompletionTokens)
        n = try c.decodeIfPresent(Int.self, forKey: .n)
        logprobs = try c.decodeIfPresent(Bool.self, forKey: .logprobs)
        topLogprobs = try c.decodeIfPresent(Int.self, forKey: .topLogprobs)
        stream = try c.decodeIfPresent(Bool.self, forKey: .stream)
        streamOptions = try c.decodeIfPresent(StreamOptions.self, forKey: .streamOptions)
        chatTemplateKwargs = try c.decodeIfPresent(JSON.self, forKey: .chatTemplateKwargs)
        if let k = chatTemplateKwargs, k != .object, k != .null {
            throw DecodingError.typeMismatch([String: JSON].self, .init(codingPath: c.codingPath + [CodingKeys.chatTemplateKwargs],
                                                                       debugDescription: "expected an object"))
        }
        separateReasoning = try c.decodeIfPresent(Bool.self, forKey: .separateReasoning)
        skipSpecialTokens = try c.decodeIfPresent(Bool.self, forKey: .skipSpecialTokens)
        responseFormat = try c.decodeIfPresent(ResponseFormat.self, forKey: .responseFormat)
        continueFinalMessage = try c.decodeIfPresent(Bool.self, forKey: .continueFinalMessage)
        addGenerationPrompt = try c.decodeIfPresent(Bool.self, forKey: .addGenerationPrompt)
    }
}

/// Sampling and stopping fields shared by chat and text completions.
public struct SamplingFields: Decodable, Sendable {
    public var temperature: Double?
    public var topP: Double?
    public var topK: Int?
    public var minP: Double?
    public var presencePenalty: Double?
    public var frequencyPenalty: Double?
    public var repetitionPenalty: Double?
    public var seed: Int64?
    public var stop: OneOrMany<String>?
    public var stopTokenIds: [Int]?
    public var logitBias: [String: Double]?
    public var ignoreEos: Bool?
    public var minTokens: Int?
    /// `best_of`: candidates generated to return the best `n` of (completions only; checked by
    /// the server, which does not rank candidates).
    public var bestOf: Int?

    enum CodingKeys: String, CodingKey {
        case temperature, seed, stop, user, store
        case bestOf = "best_of"
        case topP = "top_p"
        case topK = "top_k"
        case minP = "min_p"
        case presencePenalty = "presence_penalty"
        case frequencyPenalty = "frequency_penalty"
        case repetitionPenalty = "repetition_penalty"
        case stopTokenIds = "stop_token_ids"
        case logitBias = "logit_bias"
        case ignoreEos = "ignore_eos"
        case minTokens = "min_tokens"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        temperature = try c.decodeIfPresent(Double.self, forKey: .temperature)
        topP = try c.decodeIfPresent(Double.self, forKey: .topP)
        topK = try c.decodeIfPresent(Int.self, forKey: .topK)
        minP = try c.decodeIfPresent(Double.self, forKey: .minP)
        presencePenalty = try c.decodeIfPresent(Double.self, forKey: .presencePenalty)
        frequencyPenalty = try c.decodeIfPresent(Double.self, forKey: .frequencyPenalty)
        repetitionPenalty = try c.decodeIfPresent(Double.self, forKey: .repetitionPenalty)
        seed = try c.decodeIfPresent(Int64.self, forKey: .seed)
        stop = try c.decodeIfPresent(OneOrMany<String>.self, forKey: .stop)
        stopTokenIds = try c.decodeIfPresent([Int].self, forKey: .stopTokenIds)
        logitBias = try c.decodeIfPresent([String: Double].self, forKey: .logitBias)
        ignoreEos = try c.decodeIfPresent(Bool.self, forKey: .ignoreEos)
        minTokens = try c.decodeIfPresent(Int.self, forKey: .minTokens)
        bestOf = try c.decodeIfPresent(Int.self, forKey: .bestOf)
        // OpenAI fields with no effect here, checked so that a wrong one is not silently ignored.
        _ = try c.decodeIfPresent(String.self, forKey: .user)
        _ = try c.decodeIfPresent(Bool.self, forKey: .store)
    }

    public init() {}
}

public struct StreamOptions: Codable, Sendable, Equatable {
    public var includeUsage: Bool?
    enum CodingKeys: String, CodingKey { case includeUsage = "include_usage" }
    public init(includeUsage: Bool?) { self.includeUsage = includeUsage }
}

public struct ResponseFormat: Codable, Sendable, Equatable {
    public var type: String
}

/// A conversation message. `content` is a string, a list of content parts, or null.
public struct ChatMessage: Decodable, Sendable {
    public var role: String
    public var content: MessageContent?
    public var name: String?
    public var toolCalls: [AssistantToolCall]?
    public var toolCallId: String?
    public var reasoningContent: String?

    enum CodingKeys: String, CodingKey {
        case role, content, name
        case toolCalls = "tool_calls"
        case toolCallId = "tool_call_id"
        case reasoningContent = "reasoning_content"
    }
}

public enum MessageContent: Decodable, Sendable {
    case text(String)
    case parts([ContentPart])

    public init(from decoder: Decoder) throws {
        if let c = try? decoder.singleValueContainer(), let s = try? c.decode(String.self) { self = .text(s); return }
        guard var list = try? decoder.unkeyedContainer() else {
            throw DecodingError.typeMismatch(String.self, .init(codingPath: decoder.codingPath,
                                                                 debugDescription: "expected a string or an array of content parts"))
        }
        var parts: [ContentPart] = []
        while !list.isAtEnd { parts.append(try list.decode(ContentPart.self)) }
        self = .parts(parts)
    }
}

/// One part of a list `content`: `{"type": "text", "text": …}` (or a bare string). Only text parts
/// can be rendered for GLM-4.5 (a text model); other types are reported by the server.
public struct ContentPart: Decodable, Sendable {
    public var type: String
    public var text: String?

    enum CodingKeys: String, CodingKey { case type, text }

    public init(from decoder: Decoder) throws {
        if let c = try? decoder.singleValueContainer(), let s = try? c.decode(String.self) {
            type = "text"
            text = s
            return
        }
        guard let c = try? decoder.container(keyedBy: CodingKeys.self) else {
            throw DecodingError.typeMismatch(String.self, .init(codingPath: decoder.codingPath,
                                                                 debugDescription: "expected a content part object"))
        }
        type = try c.decode(String.self, forKey: .type)
        text = type == "text" ? try c.decode(String.self, forKey: .text) : nil
    }
}

/// A tool call in an assistant message of the history. OpenAI sends `arguments` as a JSON string;
/// an object is accepted too.
public struct AssistantToolCall: Decodable, Sendable {
    public struct Function: Decodable, Sendable {
        public var name: String
        public var arguments: JSON?
    }
    public var id: String?
    public var type: String?
    public var function: Function
}

/// `{"type": "function", "function": {"name", "description", "parameters", "strict"}}`.
public struct Tool: Decodable, Sendable {
    public struct Function: Decodable, Sendable {
        public var name: String
        public var description: String?
        public var parameters: JSON?
        public var strict: Bool?
    }
    public var type: String
    public var function: Function
}

/// `"none"`, `"auto"`, `"required"`, or `{"type": "function", "function": {"name": …}}`.
public enum ToolChoice: Decodable, Sendable, Equatable {
    case none, auto, required
    case function(String)

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) {
            switch s {
            case "none": self = .none
            case "auto": self = .auto
            case "required": self = .required
            default:
                throw DecodingError.dataCorrupted(.init(codingPath: decoder.codingPath, debugDescription:
                    "expected \"none\", \"auto\", \"required\" or {\"type\": \"function\", \"function\": {\"name\": …}}, got \"\(s)\""))
            }
            return
        }
        struct Named: Decodable {
            struct F: Decodable { var name: String }
            var type: String?
            var function: F
        }
        guard let named = try? c.decode(Named.self) else {
            throw DecodingError.typeMismatch(String.self, .init(codingPath: decoder.codingPath, debugDescription:
                "expected \"none\", \"auto\", \"required\" or {\"type\": \"function\", \"function\": {\"name\": …}}"))
        }
        self = .function(named.function.name)
    }
}

// MARK: - Response

public struct ChatCompletion: Encodable, Sendable {
    public var id: String
    public var object = "chat.completion"
    public var created: Int
    public var model: String
    public var choices: [ChatChoice]
    public var usage: CompletionUsage

    public init(id: String, created: Int, model: String, choices: [ChatChoice], usage: CompletionUsage) {
        self.id = id
        self.created = created
        self.model = model
        self.choices = choices
        self.usage = usage
    }
}

public struct ChatChoice: Encodable, Sendable {
    public var index: Int
    public var message: AssistantMessage
    public var logprobs: ChatLogprobs?
    public var finishReason: String?

    enum CodingKeys: String, CodingKey {
        case index, message, logprobs
        case finishReason = "finish_reason"
    }

    public init(index: Int, message: AssistantMessage, logprobs: ChatLogprobs?, finishReason: String?) {
        self.index = index
        self.message = message
        self.logprobs = logprobs
        self.finishReason = finishReason
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(index, forKey: .index)
        try c.encode(message, forKey: .message)
        try c.encode(logprobs, forKey: .logprobs)
        try c.encode(finishReason, forKey: .finishReason)
    }
}

public struct AssistantMessage: Encodable, Sendable {
    public var role = "assistant"
    public var content: String?
    public var reasoningContent: String?
    public var toolCalls: [ToolCallOut]?

    enum CodingKeys: String, CodingKey {
        case role, content
        case reasoningContent = "reasoning_content"
        case toolCalls = "tool_calls"
    }

    public init(content: String?, reasoningContent: String?, toolCalls: [ToolCallOut]?) {
        self.content = content
        self.reasoningContent = reasoningContent
        self.toolCalls = toolCalls
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(role, forKey: .role)
        try c.encode(content, forKey: .content)
        try c.encode(reasoningContent, forKey: .reasoningContent)
        try c.encodeIfPresent(toolCalls, forKey: .toolCalls)
    }
}

public struct ToolCallOut: Encodable, Sendable, Equatable {
    public struct Function: Encodable, Sendable, Equatable {
        public var name: String
        /// JSON object text.
        public var arguments: String
    }
    public var id: String
    public var type = "function"
    public var function: Function

    public init(id: String, name: String, arguments: String) {
        self.id = id
        self.function = Function(name: name, arguments: arguments)
    }
}

// MARK: - Stream chunk

public struct ChatCompletionChunk: Encodable, Sendable {
    public var id: String
    public var object = "chat.completion.chunk"
    public var created: Int
    public var model: String
    public var choices: [ChunkChoice]
    public var usage: CompletionUsage?

    public init(id: String, created: Int, model: String, choices: [ChunkChoice], usage: CompletionUsage? = nil) {
        self.id = id
        self.created = created
        self.model = model
        self.choices = choices
        self.usage = usage
    }
}

public struct ChunkChoice: Encodable, Sendable {
    public var index: Int
    public var delta: ChatDelta
    public var logprobs: ChatLogprobs?
    public var finishReason: String?

    enum CodingKeys: String, CodingKey {
        case index, delta, logprobs
        case finishReason = "finish_reason"
    }

    public init(index: Int, delta: ChatDelta, logprobs: ChatLogprobs? = nil, finishReason: String? = nil) {
        self.index = index
        self.delta = delta
        self.logprobs = logprobs
        self.finishReason = finishReason
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(index, forKey: .index)
        try c.encode(delta, forKey: .delta)
        try c.encode(logprobs, forKey: .logprobs)
        try c.encode(finishReason, forKey: .finishReason)
    }
}

public struct ChatDelta: Encodable, Sendable {
    public var role: String?
    public var content: String?
    public var reasoningContent: String?
    public var toolCalls: [ToolCallChunk]?

    enum CodingKeys: String, CodingKey {
        case role, content
        case reasoningContent = "reasoning_content"
        case toolCalls = "tool_calls"
    }

    public init(role: String? = nil, content: String? = nil, reasoningContent: String? = nil,
                toolCalls: [ToolCallChunk]? = nil) {
        self.role = role
        self.content = content
        self.reasoningContent = reasoningContent
        self.toolCalls = toolCalls
    }

    public var isEmpty: Bool { role == nil && content == nil && reasoningContent == nil && toolCalls == nil }
}

/// A streamed tool-call piece: the first for a call has `id`, `type` and `function.name`
/// (arguments ""), the later ones only argument text.
public struct ToolCallChunk: Encodable, Sendable, Equatable {
    public struct Function: Encodable, Sendable, Equatable {
        public var name: String?
        public var arguments: String?
    }
    public var index: Int
    public var id: String?
    public var type: String?
    public var function: Function

    public init(index: Int, id: String?, name: String?, arguments: String?) {
        self.index = index
        self.id = id
        self.type = id == nil ? nil : "function"
        self.function = Function(name: name, arguments: arguments)
    }
}

// MARK: - Logprobs

/// `choices[].logprobs` of a chat completion: one entry per generated token.
public struct ChatLogprobs: Encodable, Sendable, Equatable {
    public var content: [TokenLogprobEntry]
    public init(content: [TokenLogprobEntry]) { self.content = content }
}

public struct TokenLogprobEntry: Encodable, Sendable, Equatable {
    public struct Alternative: Encodable, Sendable, Equatable {
        public var token: String
        public var logprob: Double
        public var bytes: [UInt8]
        public init(token: String, logprob: Double, bytes: [UInt8]) {
            self.token = token
            self.logprob = logprob
            self.bytes = bytes
        }

        public func encode(to encoder: Encoder) throws {
            var c = encoder.container(keyedBy: CodingKeys.self)
            try c.encode(token, forKey: .token)
            try c.encode(reportedLogprob(logprob), forKey: .logprob)
            try c.encode(bytes, forKey: .bytes)
        }

        enum CodingKeys: String, CodingKey { case token, logprob, bytes }
    }
    public var token: String
    public var logprob: Double
    public var bytes: [UInt8]
    public var topLogprobs: [Alternative]

    enum CodingKeys: String, CodingKey {
        case token, logprob, bytes
        case topLogprobs = "top_logprobs"
    }

    public init(token: String, logprob: Double, bytes: [UInt8], topLogprobs: [Alternative]) {
        self.token = token
        self.logprob = logprob
        self.bytes = bytes
        self.topLogprobs = topLogprobs
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(token, forKey: .token)
        try c.encode(reportedLogprob(logprob), forKey: .logprob)
        try c.encode(bytes, forKey: .bytes)
        try c.encode(topLogprobs, forKey: .topLogprobs)
    }
}
