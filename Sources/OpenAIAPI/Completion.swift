// `POST /v1/completions` (raw prompt, no chat template) and the small endpoints.

// MARK: - Text completion request

public struct CompletionRequest: Decodable, Sendable {
    public var model: String?
    public var prompt: Prompt
    public var sampling: SamplingFields
    public var maxTokens: Int?
    public var n: Int?
    /// Number of top alternatives per token (0: just the sampled token's logprob).
    public var logprobs: Int?
    public var echo: Bool?
    public var stream: Bool?
    public var streamOptions: StreamOptions?
    public var skipSpecialTokens: Bool?
    public var suffix: String?

    enum CodingKeys: String, CodingKey {
        case model, prompt, n, logprobs, echo, stream, suffix
        case maxTokens = "max_tokens"
        case streamOptions = "stream_options"
        case skipSpecialTokens = "skip_special_tokens"
    }

    public init(from decoder: Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        model = try c.decodeIfPresent(String.self, forKey: .model)
        prompt = try c.decode(Prompt.self, forKey: .prompt)
        sampling = try SamplingFields(from: decoder)
        maxTokens = try c.decodeIfPresent(Int.self, forKey: .maxTokens)
        n = try c.decodeIfPresent(Int.self, forKey: .n)
        logprobs = try c.decodeIfPresent(Int.self, forKey: .logprobs)
        echo = try c.decodeIfPresent(Bool.self, forKey: .echo)
        stream = try c.decodeIfPresent(Bool.self, forKey: .stream)
        streamOptions = try c.decodeIfPresent(StreamOptions.self, forKey: .streamOptions)
        skipSpecialTokens = try c.decodeIfPresent(Bool.self, forKey: .skipSpecialTokens)
        suffix = try c.decodeIfPresent(String.self, forKey: .suffix)
    }
}

/// `prompt`: a string, a list of strings, a list of token ids, or a list of lists of token ids.
public enum Prompt: Decodable, Sendable, Equatable {
    case text(String)
    case texts([String])
    case tokens([Int])
    case tokenLists([[Int]])

    public init(from decoder: Decoder) throws {
        let c = try decoder.singleValueContainer()
        if let s = try? c.decode(String.self) { self = .text(s) }
        else if let s = try? c.decode([String].self) { self = .texts(s) }
        else if let t = try? c.decode([Int].self) { self = .tokens(t) }
        else if let t = try? c.decode([[Int]].self) { self = .tokenLists(t) }
        else {
            throw DecodingError.typeMismatch(String.self, .init(codingPath: decoder.codingPath, debugDescription:
                "expected a string, an array of strings, an array of token ids or an array of token-id arrays"))
        }
    }
}

// MARK: - Text completion response

public struct Completion: Encodable, Sendable {
    public var id: String
    public var object = "text_completion"
    public var created: Int
    public var model: String
    public var choices: [CompletionChoice]
    public var usage: CompletionUsage?

    public init(id: String, created: Int, model: String, choices: [CompletionChoice], usage: CompletionUsage?) {
        self.id = id
        self.created = created
        self.model = model
        self.choices = choices
        self.usage = usage
    }
}

public struct CompletionChoice: Encodable, Sendable {
    public var index: Int
    public var text: String
    public var logprobs: CompletionLogprobs?
    public var finishReason: String?

    enum CodingKeys: String, CodingKey {
        case index, text, logprobs
        case finishReason = "finish_reason"
    }

    public init(index: Int, text: String, logprobs: CompletionLogprobs?, finishReason: String?) {
        self.index = index
        self.text = text
        self.logprobs = logprobs
        self.finishReason = finishReason
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(index, forKey: .index)
        try c.encode(text, forKey: .text)
        try c.encode(logprobs, forKey: .logprobs)
        try c.encode(finishReason, forKey: .finishReason)
    }
}

/// Legacy completions logprobs: parallel arrays per generated token.
public struct CompletionLogprobs: Encodable, Sendable, Equatable {
    public var tokens: [String] = []
    public var tokenLogprobs: [Double] = []
    /// Per token: alternative token text → logprob (ordered best first when encoded).
    public var topLogprobs: [[(String, Double)]] = []
    public var textOffset: [Int] = []

    enum CodingKeys: String, CodingKey {
        case tokens
        case tokenLogprobs = "token_logprobs"
        case topLogprobs = "top_logprobs"
        case textOffset = "text_offset"
    }

    public init() {}

    public var isEmpty: Bool { tokens.isEmpty }

    public mutating func append(contentsOf other: CompletionLogprobs) {
        tokens += other.tokens
        tokenLogprobs += other.tokenLogprobs
        topLogprobs += other.topLogprobs
        textOffset += other.textOffset
    }

    public func encode(to encoder: Encoder) throws {
        var c = encoder.container(keyedBy: CodingKeys.self)
        try c.encode(tokens, forKey: .tokens)
        try c.encode(tokenLogprobs.map(reportedLogprob), forKey: .tokenLogprobs)
        var top = c.nestedUnkeyedContainer(forKey: .topLogprobs)
        for alternatives in topLogprobs {
            var o = top.nestedContainer(keyedBy: DynamicKey.self)
            for (token, logprob) in alternatives { try o.encode(reportedLogprob(logprob), forKey: DynamicKey(token)) }
        }
        try c.encode(textOffset, forKey: .textOffset)
    }

    public static func == (a: CompletionLogprobs, b: CompletionLogprobs) -> Bool {
        a.tokens == b.tokens && a.tokenLogprobs == b.tokenLogprobs && a.textOffset == b.textOffset
            && a.topLogprobs.count == b.topLogprobs.count
            && zip(a.topLogprobs, b.topLogprobs).allSatisfy { x, y in
                x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
            }
    }
}

/// A log-probability as JSON can carry it: −∞ (a token that could not be sampled) is OpenAI's
/// −9999.0, and NaN, which nothing should produce, the same rather than an encoding failure.
func reportedLogprob(_ x: Double) -> Double { x.isFinite ? x : (x > 0 ? 0 : -9999.0) }

struct DynamicKey: CodingKey {
    var stringValue: String
    var intValue: Int? { nil }
    init(_ s: String) { stringValue = s }
    init?(stringValue: String) { self.stringValue = stringValue }
    init?(intValue: Int) { nil }
}

// MARK: - Shared

public struct CompletionUsage: Codable, Sendable, Equatable {
    public struct PromptDetails: Codable, Sendable, Equatable {
        public var cachedTokens: Int
        enum CodingKeys: String, CodingKey { case cachedTokens = "cached_tokens" }
    }
    public var promptTokens: Int
    public var completionTokens: Int
    public var totalTokens: Int
    public var promptTokensDetails: PromptDetails?

    enum CodingKeys: String, CodingKey {
        case promptTokens = "prompt_tokens"
        case completionTokens = "completion_tokens"
        case totalTokens = "total_tokens"
        case promptTokensDetails = "prompt_tokens_details"
    }

    public init(promptTokens: Int, completionTokens: Int, cachedTokens: Int = 0) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.totalTokens = promptTokens + completionTokens
        self.promptTokensDetails = cachedTokens > 0 ? PromptDetails(cachedTokens: cachedTokens) : nil
    }
}

// MARK: - Models

public struct ModelList: Encodable, Sendable {
    public var object = "list"
    public var data: [ModelCard]
    public init(data: [ModelCard]) { self.data = data }
}

public struct ModelCard: Encodable, Sendable {
    public var id: String
    public var object = "model"
    public var created: Int
    public var ownedBy: String
    public var root: String
    public var maxModelLen: Int

    enum CodingKeys: String, CodingKey {
        case id, object, created, root
        case ownedBy = "owned_by"
        case maxModelLen = "max_model_len"
    }

    public init(id: String, created: Int, ownedBy: String, root: String, maxModelLen: Int) {
        self.id = id
        self.created = created
        self.ownedBy = ownedBy
        self.root = root
        self.maxModelLen = maxModelLen
    }
}

// MARK: - Tokenize / detokenize (vLLM's shapes)

/// `POST /tokenize`: either `prompt` (raw text) or `messages` (rendered with the chat template).
public struct TokenizeRequest: Decodable, Sendable {
    public var model: String?
    public var prompt: String?
    public var messages: [ChatMessage]?
    public var tools: [Tool]?
    public var addGenerationPrompt: Bool?
    public var continueFinalMessage: Bool?
    public var chatTemplateKwargs: JSON?

    enum CodingKeys: String, CodingKey {
        case model, prompt, messages, tools
        case addGenerationPrompt = "add_generation_prompt"
        case continueFinalMessage = "continue_final_message"
        case chatTemplateKwargs = "chat_template_kwargs"
    }
}

public struct TokenizeResponse: Codable, Sendable, Equatable {
    public var tokens: [Int]
    public var count: Int
    public var maxModelLen: Int

    enum CodingKeys: String, CodingKey {
        case tokens, count
        case maxModelLen = "max_model_len"
    }

    public init(tokens: [Int], maxModelLen: Int) {
        self.tokens = tokens
        self.count = tokens.count
        self.maxModelLen = maxModelLen
    }
}

public struct DetokenizeRequest: Decodable, Sendable {
    public var model: String?
    public var tokens: [Int]
}

public struct DetokenizeResponse: Codable, Sendable, Equatable {
    public var prompt: String
    public init(prompt: String) { self.prompt = prompt }
}
