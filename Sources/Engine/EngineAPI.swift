import Models
import Sampling

/// Adjusts a sequence's next-token logits before sampling: penalties, logit bias, constrained
/// decoding (e.g. forcing a tool call for `tool_choice: required`). One instance per request;
/// `didSample` tells it which token was chosen.
public protocol LogitProcessor: Sendable {
    /// - Parameters:
    ///   - logits: [vocab] logits for the next token, modified in place (set −∞ to forbid).
    ///   - generated: the tokens generated so far for this request (not the prompt).
    mutating func process(_ logits: inout [Float], generated: [Int])
    mutating func didSample(_ token: Int)
    /// Set when the processor cannot go on within its limits (after `process`): the request then
    /// ends with `EngineError.constraintFailed` instead of sampling a token it did not check.
    var failure: String? { get }
}

extension LogitProcessor {
    public mutating func didSample(_ token: Int) {}
    public var failure: String? { nil }
}

/// One request's next-token logits through its processors, checked, so that no token is ever
/// sampled from logits that mean nothing: a NaN or +∞ (corrupt weights, an overflow), a
/// processor that gave up, or processors that allow no token end the request with an error.
enum NextTokenLogits {
    static func process(_ logits: inout [Float], processors: inout [any LogitProcessor], generated: [Int]) throws {
        for i in processors.indices {
            processors[i].process(&logits, generated: generated)
            if let reason = processors[i].failure { throw EngineError.constraintFailed(reason) }
        }
        // −∞ is a masked token; anything else that is not finite poisons the softmax.
        if let bad = logits.firstIndex(where: { $0.isNaN || $0 == .infinity }) {
            throw EngineError.nonFiniteLogits(token: bad, value: logits[bad])
        }
        guard logits.contains(where: { $0 > -.infinity }) else { throw EngineError.noTokenAllowed }
    }
}

/// One generation request, as the engine sees it: token ids in, token ids out.
public struct GenerationRequest: Sendable {
    public var prompt: [Int]
    public var maxTokens: Int
    public var sampling: SamplingParameters
    /// Generation ends when one of these is sampled (it is reported, then the stream finishes).
    public var stopTokenIds: Set<Int>
    /// Applied in order before sampling.
    public var processors: [any LogitProcessor]
    /// Report the sampled token's log-probability and this many top alternatives (nil: none).
    public var topLogprobs: Int?

    public init(prompt: [Int], maxTokens: Int, sampling: SamplingParameters = .greedy, stopTokenIds: Set<Int> = [],
                processors: [any LogitProcessor] = [], topLogprobs: Int? = nil) {
        self.prompt = prompt
        self.maxTokens = maxTokens
        self.sampling = sampling
        self.stopTokenIds = stopTokenIds
        self.processors = processors
        self.topLogprobs = topLogprobs
    }
}

/// What a running request reports, in order: tokens as they are chosen, then one `finished`.
public enum GenerationEvent: Sendable, Equatable {
    /// A sampled token; `logprob` and `topLogprobs` are present when the request asked for them
    /// (log-softmax of the processed logits, before temperature).
    case token(id: Int, logprob: Float?, topLogprobs: [TokenLogprob])
    case finished(FinishReason, usage: Usage)
}

public struct TokenLogprob: Sendable, Equatable {
    public var id: Int
    public var logprob: Float
    public init(id: Int, logprob: Float) {
        self.id = id
        self.logprob = logprob
    }
}

public struct Usage: Sendable, Equatable {
    public var promptTokens: Int
    public var completionTokens: Int
    /// Prompt tokens whose KV came from the prefix cache.
    public var cachedTokens: Int
    public init(promptTokens: Int, completionTokens: Int, cachedTokens: Int = 0) {
        self.promptTokens = promptTokens
        self.completionTokens = completionTokens
        self.cachedTokens = cachedTokens
    }
}

/// Something that runs generation requests. Cancelling the consuming task (or dropping the
/// stream) cancels the request and frees what it holds.
public protocol InferenceEngine: AnyObject, Sendable {
    var model: GLM4MoEModel { get }
    /// Starts a request. Errors (prompt too long for the context, engine overloaded) arrive
    /// through the stream.
    func generate(_ request: GenerationRequest) -> AsyncThrowingStream<GenerationEvent, Error>
}

/// Errors an engine reports for a request.
public enum EngineError: Error, Equatable, CustomStringConvertible {
    case emptyPrompt
    case contextLengthExceeded(promptTokens: Int, maxTokens: Int, contextLength: Int)
    case overloaded(waiting: Int)
    /// The model's logits hold a NaN or an infinity (at this token id), as corrupt weights give.
    case nonFiniteLogits(token: Int, value: Float)
    /// A logit processor (constrained decoding) went beyond its limits.
    case constraintFailed(String)
    /// The request's processors forbid every token of the vocabulary.
    case noTokenAllowed

    public var description: String {
        switch self {
        case .emptyPrompt: "the prompt has no tokens"
        case .contextLengthExceeded(let prompt, let max, let context):
            "the prompt has \(prompt) tokens and max_tokens is \(max), together more than the context length \(context)"
        case .overloaded(let waiting): "the server is overloaded (\(waiting) requests waiting); retry later"
        case .nonFiniteLogits(let token, let value):
            "the model's logits are not finite (\(value) for token \(token)); the checkpoint's weights may be corrupt"
        case .constraintFailed(let reason): reason
        case .noTokenAllowed: "no token of the vocabulary can continue the output under the request's constraints"
        }
    }
}
