import Constraints
import Engine
import Foundation
import Kernels
import Models
import OpenAIAPI
import Templates
import Tokenizers
import Weights

/// What the routes need once the model is loaded: one engine, the tokenizer and chat template of
/// the same folder, and the limits derived from them. Immutable.
public final class ServingModel: Sendable {
    public let engine: any InferenceEngine
    public let tokenizer: Tokenizer
    /// nil when the folder has no chat template (chat requests then fail with 400).
    public let template: ChatTemplate?
    /// Prompt plus generated tokens may not exceed this.
    public let contextLength: Int
    /// The model's embedding rows: token ids must be below this.
    public let vocabularySize: Int
    /// Tokens that end generation (config `eos_token_id` plus the tokenizer's eos).
    public let stopTokenIds: Set<Int>
    /// Ids of GLM's tool-call and thinking markup (nil when the tokenizer lacks them).
    public let markup: GLMMarkupTokens?
    /// Every added token (special or not).
    public let addedTokenIds: Set<Int>
    /// Each token's bytes (added tokens left out), for `response_format: json_object`.
    public let tokenBytes: TokenByteTable
    /// The checkpoint folder.
    public let directory: URL

    public init(engine: any InferenceEngine, tokenizer: Tokenizer, template: ChatTemplate?, contextLength: Int? = nil,
                directory: URL) {
        let config = engine.model.config
        self.engine = engine
        self.tokenizer = tokenizer
        self.template = template
        self.contextLength = min(contextLength ?? config.maxPositionEmbeddings, config.maxPositionEmbeddings)
        vocabularySize = config.vocabSize
        var stops = Set(config.eosTokenIds)
        if let eos = tokenizer.eosTokenId { stops.insert(eos) }
        stopTokenIds = stops
        markup = GLMMarkupTokens(tokenizer: tokenizer)
        let added = Set(tokenizer.addedTokens.map(\.id))
        addedTokenIds = added
        tokenBytes = TokenByteTable(count: config.vocabSize) { added.contains($0) ? nil : tokenizer.tokenBytes(forId: $0) }
        self.directory = directory
    }

    /// Loads checkpoint, tokenizer and template from `directory` and starts an engine on it.
    /// `weightCheck` says how much of the weights to scan for NaN and infinity (`WeightCheck`).
    public static func load(directory: URL, configuration: ServerConfiguration, weightCheck: WeightCheck = .sampled,
                            makeEngine: (GLM4MoEModel) throws -> any InferenceEngine) throws -> ServingModel {
        let model = try GLM4MoEModel(directory: directory, backend: CPUBackend(threads: configuration.threads, precision: configuration.precision),
                                     weightCheck: weightCheck)
        model.checkpoint.prefault { _ in }
        let tokenizer = try ModelAssets.tokenizer(at: directory, gguf: model.checkpoint.gguf)
        let override = configuration.chatTemplate.map { URL(fileURLWithPath: ($0 as NSString).expandingTildeInPath) }
        let template: ChatTemplate?
        do {
            template = try ModelAssets.chatTemplate(at: directory, overrideFile: override, gguf: model.checkpoint.gguf)
        } catch let error as ChatTemplateLoaderError where override == nil && error.isNotFound {
            template = nil  // chat requests then get a 400; a template that is there but broken stops the load
        }
        if let context = configuration.contextLength, context > model.config.maxPositionEmbeddings {
            throw ModelLocatorError("--context-length \(context) is longer than the model's max_position_embeddings "
                                    + "\(model.config.maxPositionEmbeddings)")
        }
        if tokenizer.vocabularySize > model.config.vocabSize {
            throw ModelLocatorError(tokenizerMismatch(tokenizer, vocabSize: model.config.vocabSize, directory: directory))
        }
        return ServingModel(engine: try makeEngine(model), tokenizer: tokenizer, template: template,
                            contextLength: configuration.contextLength, directory: directory)
    }

    /// Why a tokenizer with ids beyond the model's vocabulary cannot serve it, naming the file
    /// and the largest token.
    static func tokenizerMismatch(_ tokenizer: Tokenizer, vocabSize: Int, directory: URL) -> String {
        let file = switch tokenizer.format {
        case .tokenizerJSON: directory.appendingPathComponent("tokenizer.json").path
        case .tiktoken: directory.appendingPathComponent("tokenizer.model (with tokenizer_config.json)").path
        case .gguf: "\(directory.path) tokenizer.ggml.tokens"
        }
        let largest = tokenizer.vocabularySize - 1
        let name = tokenizer.token(forId: largest).map { " ('\($0)')" } ?? ""
        return "\(file): token id \(largest)\(name) is outside the model's "
            + "vocabulary (0..<\(vocabSize), vocab_size in config.json): the tokenizer has \(tokenizer.vocabularySize) "
            + "tokens but the model only \(vocabSize) embedding rows"
    }

    /// Token text for logprobs (raw bytes decoded leniently) and the raw bytes.
    func tokenText(_ id: Int) -> (String, [UInt8]) {
        let bytes = tokenizer.tokenBytes(forId: id) ?? []
        return (String(decoding: bytes, as: UTF8.self), bytes)
    }

    /// Checks ids a client sent (prompt ids, logit_bias keys, stop_token_ids, detokenize).
    func validateTokenIds(_ ids: [Int], param: String) throws {
        if let bad = ids.first(where: { $0 < 0 || $0 >= vocabularySize }) {
            throw APIError.invalidRequest("Token id \(bad) in '\(param)' is out of range: the vocabulary has "
                                          + "\(vocabularySize) tokens (ids 0...\(vocabularySize - 1)).", param: param)
        }
    }
}

/// GLM-4.5's markup tokens (spec §6.2), read from the tokenizer.
public struct GLMMarkupTokens: Sendable {
    public let newline: Int
    public let thinkStart: Int
    public let thinkEnd: Int
    public let toolCallStart: Int
    public let toolCallEnd: Int
    public let argKeyStart: Int
    public let argKeyEnd: Int
    public let argValueStart: Int
    public let argValueEnd: Int
    public let observation: Int?

    init?(tokenizer: Tokenizer) {
        func id(_ s: String) -> Int? { tokenizer.id(forToken: s) }
        let nl = tokenizer.encode("\n")
        guard nl.count == 1, let ts = id("<think>"), let te = id("</think>"), let tcs = id("<tool_call>"),
              let tce = id("</tool_call>"), let aks = id("<arg_key>"), let ake = id("</arg_key>"),
              let avs = id("<arg_value>"), let ave = id("</arg_value>") else { return nil }
        newline = nl[0]
        thinkStart = ts
        thinkEnd = te
        toolCallStart = tcs
        toolCallEnd = tce
        argKeyStart = aks
        argKeyEnd = ake
        argValueStart = avs
        argValueEnd = ave
        observation = id("<|observation|>")
    }
}

/// Loading → ready (or failed). Routes other than /health answer 503 until the model is ready.
public final class ServerState: @unchecked Sendable {
    public enum Phase: Sendable {
        case loading
        case ready(ServingModel)
        case failed(String)
    }

    private let lock = NSLock()
    private var _phase: Phase

    public init(_ phase: Phase = .loading) { _phase = phase }

    public var phase: Phase {
        get { lock.withLock { _phase } }
        set { lock.withLock { _phase = newValue } }
    }

    /// The loaded model, or 503.
    public func requireModel() throws -> ServingModel {
        switch phase {
        case .ready(let m): return m
        case .loading: throw APIError.modelLoading
        // The reason names files on the server: it is in the log, not in responses.
        case .failed: throw APIError(status: 503, message: "The model failed to load; the server log says why.",
                                     type: "unavailable_error", code: "model_load_failed")
        }
    }
}
