import Constraints
import Engine
import Foundation
import Logging
import Models
import NIOCore
import OpenAIAPI
import OrderedJSON
import Sampling
import Templates

/// Checks the sampling and stopping fields shared by chat and text completions and turns them
/// into engine settings. Every out-of-range value is a 400 naming the field.
struct SamplingPlan: Sendable {
    var parameters: SamplingParameters
    var stopStrings: [String]
    var stopTokenIds: Set<Int>
    var penalties: PenaltyProcessor?
    var logitBias: LogitBiasProcessor?
    /// Tokens generated before a stop token or stop string may end the output.
    var minTokens: Int

    init(_ f: SamplingFields, model: ServingModel, prompt: [Int], maxTokens: Int) throws {
        let temperature = try Self.range(f.temperature, "temperature", 0...2, default: 1)
        let topP = try Self.range(f.topP, "top_p", 0...1, default: 1)
        if topP == 0 { throw APIError.invalidRequest("'top_p' must be greater than 0, got 0.", param: "top_p") }
        let minP = try Self.range(f.minP, "min_p", 0...1, default: 0)
        let topK = f.topK ?? -1
        if topK == 0 || topK < -1 {
            throw APIError.invalidRequest("'top_k' must be -1 (disabled) or at least 1, got \(topK).", param: "top_k")
        }
        let presence = try Self.range(f.presencePenalty, "presence_penalty", -2...2, default: 0)
        let frequency = try Self.range(f.frequencyPenalty, "frequency_penalty", -2...2, default: 0)
        let repetition = try Self.range(f.repetitionPenalty, "repetition_penalty", 0...2, default: 1)
        if repetition == 0 {
            throw APIError.invalidRequest("'repetition_penalty' must be greater than 0, got 0.", param: "repetition_penalty")
        }
        parameters = SamplingParameters(temperature: Float(temperature), topK: max(0, topK), topP: Float(topP),
                                        minP: Float(minP), seed: f.seed.map { UInt64(bitPattern: $0) })

        if let bestOf = f.bestOf, bestOf != 1 {
            throw APIError.invalidRequest("'best_of' is not supported (every one of the 'n' choices is returned); got \(bestOf).",
                                          param: "best_of")
        }
        let stops = f.stop?.values ?? []
        if stops.count > 64 { throw APIError.invalidRequest("'stop' has \(stops.count) entries; at most 64 are allowed.", param: "stop") }
        stopStrings = stops.filter { !$0.isEmpty }
        let extraStops = f.stopTokenIds ?? []
        try model.validateTokenIds(extraStops, param: "stop_token_ids")
        stopTokenIds = (f.ignoreEos == true ? [] : model.stopTokenIds).union(extraStops)
        minTokens = f.minTokens ?? 0
        guard (0...maxTokens).contains(minTokens) else {
            throw APIError.invalidRequest("'min_tokens' must be between 0 and the completion budget (\(maxTokens) tokens), "
                                          + "got \(minTokens).", param: "min_tokens")
        }

        let penalty = PenaltyProcessor(prompt: prompt, presence: Float(presence), frequency: Float(frequency),
                                       repetition: Float(repetition))
        penalties = penalty.isActive ? penalty : nil

        if let bias = f.logitBias, !bias.isEmpty {
            if bias.count > 1024 { throw APIError.invalidRequest("'logit_bias' has more than 1024 entries.", param: "logit_bias") }
            var out: [Int: Float] = [:]
            for (key, value) in bias {
                guard let id = Int(key.trimmingCharacters(in: .whitespaces)) else {
                    throw APIError.invalidRequest("'logit_bias' keys must be token ids, got '\(key)'.", param: "logit_bias")
                }
                try model.validateTokenIds([id], param: "logit_bias")
                guard value.isFinite, (-100...100).contains(value) else {
                    throw APIError.invalidRequest("'logit_bias' values must be between -100 and 100, got \(value) for token \(id).",
                                                  param: "logit_bias")
                }
                out[id] = Float(value)
            }
            logitBias = LogitBiasProcessor(bias: out)
        }
    }

    /// Processors in the order they apply: penalties, logit bias, then `extra` (constraints last,
    /// so that they always win).
    func processors(extra: [any LogitProcessor] = []) -> [any LogitProcessor] {
        var out: [any LogitProcessor] = []
        if let penalties { out.append(penalties) }
        if let logitBias { out.append(logitBias) }
        if minTokens > 0 { out.append(MinTokensProcessor(minimum: minTokens, stopTokens: stopTokenIds)) }
        return out + extra
    }

    /// The seed of choice `index` of n: choices differ, and the same request gives the same choices.
    func parameters(forChoice index: Int) -> SamplingParameters {
        var p = parameters
        if let seed = p.seed { p.seed = seed &+ UInt64(index) }
        return p
    }

    static func range(_ value: Double?, _ name: String, _ range: ClosedRange<Double>, default d: Double) throws -> Double {
        guard let v = value else { return d }
        guard v.isFinite, range.contains(v) else {
            throw APIError.invalidRequest("'\(name)' must be between \(Self.format(range.lowerBound)) and "
                                          + "\(Self.format(range.upperBound)), got \(Self.format(v)).", param: name)
        }
        return v
    }

    static func format(_ v: Double) -> String {
        v == v.rounded() && abs(v) < 1e15 ? String(Int(v)) : String(v)
    }
}

enum RequestChecks {
    /// `n`: 1...128.
    static func choiceCount(_ n: Int?) throws -> Int {
        let n = n ?? 1
        guard (1...128).contains(n) else {
            throw APIError.invalidRequest("'n' must be between 1 and 128, got \(n).", param: "n")
        }
        return n
    }

    /// The completion budget: the requested max_tokens (checked against the context), or all of
    /// the context the prompt leaves.
    static func maxTokens(_ requested: Int?, param: String, promptTokens: Int, context: Int) throws -> Int {
        if let requested {
            guard requested >= 1 else {
                throw APIError.invalidRequest("'\(param)' must be at least 1, got \(requested).", param: param)
            }
            if promptTokens + requested > context {
                throw APIError.contextLengthExceeded(promptTokens: promptTokens, maxTokens: requested, contextLength: context)
            }
            return requested
        }
        let left = context - promptTokens
        if left < 1 {
            throw APIError.contextLengthExceeded(promptTokens: promptTokens, maxTokens: 1, contextLength: context)
        }
        return left
    }

    /// A whole (non-streamed) answer is held in memory until its last token: with logprobs, at
    /// most this many token entries (each choice's tokens times one plus the alternatives).
    static let maxHeldLogprobEntries = 1_000_000

    static func heldLogprobs(choices: Int, maxTokens: Int, alternatives: Int, stream: Bool, param: String) throws {
        let (perChoice, o1) = maxTokens.multipliedReportingOverflow(by: alternatives + 1)
        let (total, o2) = perChoice.multipliedReportingOverflow(by: choices)
        guard stream || (!o1 && !o2 && total <= maxHeldLogprobEntries) else {
            throw APIError.invalidRequest("n × max_tokens × (\(param) + 1) is more than \(maxHeldLogprobEntries) logprob "
                                          + "entries to hold for one answer; stream it, or ask for fewer.", param: param)
        }
    }

    /// The `model` field must name this server's model (or be absent).
    static func model(_ requested: String?, configuration: ServerConfiguration) throws {
        guard let requested, !requested.isEmpty else { return }
        if requested == configuration.modelName || requested == configuration.modelPath { return }
        throw APIError.modelNotFound(requested, available: configuration.modelName)
    }
}

/// Maps any error a route can meet to the OpenAI error it reports: the one place where engine,
/// template and decoding errors become HTTP statuses.
enum ErrorMapping {
    static func apiError(_ error: Error) -> APIError {
        switch error {
        case let e as APIError:
            return e
        case let e as EngineError:
            switch e {
            case .emptyPrompt:
                return .invalidRequest("The prompt is empty.", param: "prompt")
            case .contextLengthExceeded(let prompt, let max, let context):
                return .contextLengthExceeded(promptTokens: prompt, maxTokens: max, contextLength: context)
            case .overloaded:
                return .overloaded(e.description)
            case .nonFiniteLogits:
                return APIError(status: 500, message: "Generation stopped: \(e.description).", type: "internal_server_error",
                                code: "invalid_logits")
            case .constraintFailed(let reason):
                return .invalidRequest("Generation stopped: \(reason).", param: "response_format", code: "constraint_limit")
            case .noTokenAllowed:
                return .invalidRequest("Generation stopped: \(e.description) (response_format, tool_choice, logit_bias).",
                                       code: "no_token_allowed")
            }
        case let e as ModelError:
            switch e {
            case .tokenOutOfRange:
                return .invalidRequest("Invalid prompt: \(e.description).", param: "prompt")
            case .contextOverflow(_, let needed, let limit):
                return .invalidRequest("The request needs \(needed) positions but the context holds \(limit).",
                                       code: "context_length_exceeded")
            case .outOfCacheBlocks:
                return .overloaded(e.description)
            default:
                return internalError(e)
            }
        case let e as TemplateError:
            return .invalidRequest("The chat template could not render these messages: \(e.description)", param: "messages")
        case let e as JSONParseError:
            return .invalidRequest("The request body is not valid JSON: \(e).", code: "invalid_json")
        case let e as ChatInputError:
            return .invalidRequest(e.message.prefix(1).uppercased() + e.message.dropFirst() + ".", param: "messages")
        case let e as DecodingError:
            return .from(decodingError: e)
        case is ChannelError:
            // Writing to a client that went away: nothing the server did wrong, and nobody to tell.
            return .clientClosedRequest
        default:
            return internalError(error)
        }
    }

    /// A 500 that says nothing of the server's internals: the details go to the log under the
    /// request id the client is given.
    static func internalError(_ error: Error) -> APIError {
        let id = randomID("req-")
        logger.error("internal error (request id \(id)): \(error)")
        return .internalError(requestID: id)
    }

    private static let logger = Logger(label: "glm.serve")
}
