import Foundation

/// Everything `glm serve` is told on its command line (SGLang's flag names in comments).
public struct ServerConfiguration: Sendable {
    /// `--model-path`: a checkpoint folder or a Hugging Face repo id in the local HF cache.
    public var modelPath: String
    /// `--served-model-name` (default: the model path), the id `/v1/models` reports and the
    /// `model` field requests must name.
    public var servedModelName: String?
    /// `--host`, `--port`.
    public var host = "127.0.0.1"
    public var port = 30000
    /// `--api-key`: when set, every route but /health and /metrics needs `Authorization: Bearer <key>`.
    public var apiKey: String?
    /// `--context-length`: caps the model's `max_position_embeddings`.
    public var contextLength: Int?
    /// `--max-running-requests` and `--max-queued-requests`: engine requests admitted at once
    /// (running + waiting); more are refused with 503.
    public var maxRunningRequests = 16
    public var maxQueuedRequests = 256
    /// Largest accepted request body (413 above).
    public var maxRequestBodyBytes = 32 * 1024 * 1024
    /// `--tool-call-parser glm45`: parse GLM tool calls out of the output.
    public var toolCallParser: String?
    /// `--reasoning-parser glm45`: split `<think>` blocks into `reasoning_content`.
    public var reasoningParser: String?
    /// `--chat-template`: a Jinja file replacing the model folder's template.
    public var chatTemplate: String?
    /// `--enable-metrics`: serve Prometheus metrics at /metrics.
    public var enableMetrics = false
    /// `--log-requests`: log each request's parameters and outcome.
    public var logRequests = false
    /// Kernel worker threads (nil: all cores).
    public var threads: Int?
    /// Test hook: wait this long before loading the model (to observe the loading state).
    public var debugLoadDelay: Duration = .zero

    public init(modelPath: String) { self.modelPath = modelPath }

    /// The name clients use in `model`.
    public var modelName: String { servedModelName ?? modelPath }

    /// The context window requests get: the model's, capped by `--context-length`.
    func contextLength(of model: ServingModel) -> Int { min(model.contextLength, contextLength ?? .max) }

    public var parsesToolCalls: Bool { toolCallParser != nil }
    public var parsesReasoning: Bool { reasoningParser != nil }

    /// The parser names this server understands (SGLang's and vLLM's spellings).
    public static let toolCallParsers = ["glm45", "glm4_moe", "glm47"]
    public static let reasoningParsers = ["glm45", "glm4_moe"]
}
