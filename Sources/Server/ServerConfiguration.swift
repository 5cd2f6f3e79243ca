import Constraints
import Foundation
import Kernels
import Weights

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
    /// `--api-key`: when set, every route but exactly /health and /metrics needs
    /// `Authorization: Bearer <key>` (or `x-api-key: <key>`).
    public var apiKey: String?
    /// `--allowed-origins`: web origins that may call the API from a browser (CORS); none by
    /// default, so that a page the user opens cannot drive a server on localhost. `*` allows all.
    public var allowedOrigins: [String] = []
    /// `--max-connections`: open HTTP connections at once; more wait to be accepted.
    public var maxConnections = 1024
    /// `--idle-timeout`: a connection that sends nothing for this long while no response is
    /// being written (a request head or body trickled in, or a kept-alive connection left open)
    /// is closed.
    public var idleTimeout: Duration = .seconds(60)
    /// `--body-read-timeout`: the whole request body must arrive within this (408 after).
    public var bodyReadTimeout: Duration = .seconds(60)
    /// What one `json_schema` response format may cost (`--json-schema-timeout` sets its
    /// compile time).
    public var schemaBudget = JSONSchemaBudget()
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
    /// `--weight-check`: how the weights are scanned for NaN/Inf at load.
    public var weightCheck: WeightCheck = .sampled
    /// Kernel worker threads (nil: all cores).
    public var threads: Int?
    /// `--dtype`: f32 activations (exact) or bf16 ones for bf16 weights.
    public var precision: MatmulPrecision = .float32
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
