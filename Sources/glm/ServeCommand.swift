import ArgumentParser
import DemoModel
import Engine
import Foundation
import Logging
import Server
import Weights

/// `glm serve`: an OpenAI-compatible server, started with SGLang's `launch_server` flags.
///
///     glm serve --model-path zai-org/GLM-4.5-Air-FP8 --tool-call-parser glm45 --reasoning-parser glm45 \
///         --served-model-name glm-4.5-air-fp8 --host 0.0.0.0 --port 8000
///
/// Flags that SGLang has and this engine cannot honour yet are accepted, with a one-line note of
/// what they do here, so that SGLang command lines work unchanged. Without `--model-path` it
/// serves the embedded demo model as `glm-4.5-demo`.
struct ServeCommand: AsyncParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "serve",
        abstract: "Serve a model over the OpenAI API (SGLang's command-line flags).",
        discussion: """
        Endpoints: POST /v1/chat/completions, POST /v1/completions, GET /v1/models, GET /health \
        (503 while loading), GET /health_generate, POST /tokenize, POST /detokenize, GET /metrics \
        (with --enable-metrics).
        """
    )

    // MARK: Model

    @Option(name: .customLong("model-path"), help: ArgumentHelp(
        "A checkpoint folder, a GGUF file (any part of a split one) or folder, or a Hugging Face repo id present in the local Hugging Face cache (owner/name:Q4_K_M picks a GGUF quant).",
        discussion: "The cache is $HF_HUB_CACHE, else $HF_HOME/hub, else ~/.cache/huggingface/hub. "
            + "Without --model-path the embedded \(DemoModel.name) model is served."))
    var modelPath: String?

    @Option(name: .customLong("served-model-name"),
            help: "The model id clients use (default: --model-path, or \(DemoModel.name) for the demo model).")
    var servedModelName: String?

    @Option(name: .customLong("tokenizer-path"), help: "Accepted for SGLang compatibility; must name the --model-path folder here.")
    var tokenizerPath: String?

    @Option(name: .customLong("chat-template"), help: "A Jinja chat-template file replacing the model folder's.")
    var chatTemplate: String?

    @Option(name: .customLong("context-length"), help: "Largest prompt plus completion, in tokens (default: the model's max_position_embeddings).")
    var contextLength: Int?

    @Option(name: .customLong("tool-call-parser"), help: "Parse tool calls out of the output: glm45.")
    var toolCallParser: String?

    @Option(name: .customLong("reasoning-parser"), help: "Return <think> blocks as reasoning_content: glm45.")
    var reasoningParser: String?

    // MARK: Server

    @Option(help: "Address to listen on.")
    var host = "127.0.0.1"

    @Option(help: "Port to listen on.")
    var port = 30000

    @Option(name: .customLong("api-key"), help: "Require 'Authorization: Bearer <key>' (all routes but exactly /health and /metrics).")
    var apiKey: String?

    @Option(name: .customLong("allowed-origins"), parsing: .upToNextOption,
            help: "Web origins that may call the API from a browser, e.g. https://app.example.com (CORS; '*' for any). Default: none.")
    var allowedOrigins: [String] = []

    @Option(name: .customLong("max-connections"), help: "Most open HTTP connections at once; more wait to be accepted.")
    var maxConnections = 1024

    @Option(name: .customLong("idle-timeout"),
            help: "Seconds a connection may send nothing while no response is being written (a slow request head or body, an idle keep-alive) before it is closed.")
    var idleTimeout: Double = 60

    @Option(name: .customLong("body-read-timeout"), help: "Seconds the whole request body may take to arrive (408 after).")
    var bodyReadTimeout: Double = 60

    @Option(name: .customLong("json-schema-timeout"),
            help: "Seconds one response_format json_schema may take to compile (a schema needing more is refused with a 400).")
    var jsonSchemaTimeout: Double = 1

    @Option(name: .customLong("max-running-requests"), help: "Most requests generating at once (the serial engine runs one at a time; with --max-queued-requests this bounds admission).")
    var maxRunningRequests = 16

    @Option(name: .customLong("max-queued-requests"), help: "Most requests waiting beyond the running ones; more get 503.")
    var maxQueuedRequests = 256

    @Option(name: .customLong("max-request-body-bytes"), help: "Largest request body accepted (413 above).")
    var maxRequestBodyBytes = 32 * 1024 * 1024

    @Flag(name: .customLong("enable-metrics"), help: "Serve Prometheus metrics at /metrics.")
    var enableMetrics = false

    @Flag(name: .customLong("log-requests"), help: "Log every request and its outcome.")
    var logRequests = false

    @Option(name: .customLong("log-level"), help: "trace, debug, info, notice, warning, error or critical.")
    var logLevel = "info"

    @Option(help: "Kernel worker threads (default: all cores).")
    var threads: Int?

    @Option(name: .customLong("weight-check"), help: "Scan the weights for NaN/Inf at load: none, sampled (a few pages of each large tensor, small ones whole) or full.")
    var weightCheck: WeightCheck = .sampled

    @Option(help: DTypeOption.help)
    var dtype: DTypeOption = .auto

    @Option(name: .customLong("debug-load-delay"), help: ArgumentHelp("Seconds to wait before loading (tests).", visibility: .hidden))
    var debugLoadDelay: Double = 0

    // MARK: Accepted for SGLang compatibility

    @Option(name: [.customLong("tp-size"), .customLong("tensor-parallel-size")], help: "SGLang tensor parallelism; this server runs on one machine's CPUs.")
    var tpSize: Int?

    @Option(name: [.customLong("dp-size"), .customLong("data-parallel-size")], help: "SGLang data parallelism; one engine here.")
    var dpSize: Int?

    @Option(name: .customLong("mem-fraction-static"), help: "Fraction of RAM for weights plus the KV cache (default 0.8).")
    var memFractionStatic: Double?

    @Option(name: .customLong("max-total-tokens"), help: "KV cache size in tokens (overrides --mem-fraction-static).")
    var maxTotalTokens: Int?

    @Option(name: .customLong("page-size"), help: "Tokens per KV cache block.")
    var pageSize = 16

    @Flag(name: .customLong("disable-radix-cache"), help: "Turn off prefix caching.")
    var disableRadixCache = false

    @OptionGroup var speculative: SpeculativeOptions

    @Flag(name: .customLong("disable-shared-experts-fusion"), help: "SGLang kernel option; shared experts are never fused here.")
    var disableSharedExpertsFusion = false

    @Flag(name: .customLong("trust-remote-code"), help: "Accepted; no model code is ever loaded from the checkpoint.")
    var trustRemoteCode = false

    @Option(name: .customLong("kv-cache-dtype"), help: "SGLang KV-cache dtype; the KV cache here is f32.")
    var kvCacheDtype: String?

    @Option(name: .customLong("chunked-prefill-size"), parsing: .unconditional, help: "Most prompt tokens prefilled per step (-1: whole prompts; default 512).")
    var chunkedPrefillSize: Int?

    func validate() throws {
        guard (1...65535).contains(port) || port == 0 else { throw ValidationError("--port must be in 0...65535, got \(port)") }
        if let p = toolCallParser, !ServerConfiguration.toolCallParsers.contains(p) {
            throw ValidationError("--tool-call-parser \(p) is not supported; use one of: \(ServerConfiguration.toolCallParsers.joined(separator: ", "))")
        }
        if let p = reasoningParser, !ServerConfiguration.reasoningParsers.contains(p) {
            throw ValidationError("--reasoning-parser \(p) is not supported; use one of: \(ServerConfiguration.reasoningParsers.joined(separator: ", "))")
        }
        if let c = contextLength, c < 1 { throw ValidationError("--context-length must be positive, got \(c)") }
        guard maxRunningRequests >= 1 else { throw ValidationError("--max-running-requests must be at least 1") }
        guard pageSize >= 1 else { throw ValidationError("--page-size must be at least 1, got \(pageSize)") }
        if let m = memFractionStatic, !(m > 0 && m <= 1) { throw ValidationError("--mem-fraction-static must be in (0, 1], got \(m)") }
        if let t = maxTotalTokens, t < pageSize { throw ValidationError("--max-total-tokens must hold at least one page of \(pageSize) tokens") }
        guard maxQueuedRequests >= 0 else { throw ValidationError("--max-queued-requests must be at least 0") }
        guard maxRequestBodyBytes >= 1024 else { throw ValidationError("--max-request-body-bytes must be at least 1024") }
        if let t = threads, t < 1 { throw ValidationError("--threads must be at least 1, got \(t)") }
        guard maxConnections >= 1 else { throw ValidationError("--max-connections must be at least 1, got \(maxConnections)") }
        for (name, seconds) in [("--idle-timeout", idleTimeout), ("--body-read-timeout", bodyReadTimeout),
                                ("--json-schema-timeout", jsonSchemaTimeout)] where !(seconds > 0 && seconds <= 86_400) {
            throw ValidationError("\(name) must be between 0 and 86400 seconds, got \(seconds)")
        }
        if let bad = allowedOrigins.first(where: { $0 != "*" && !($0.hasPrefix("http://") || $0.hasPrefix("https://")) }) {
            throw ValidationError("--allowed-origins takes origins such as https://app.example.com (or '*'), got '\(bad)'")
        }
        if let t = tokenizerPath {
            guard let modelPath else {
                throw ValidationError("--tokenizer-path needs --model-path (the embedded demo model has its own tokenizer)")
            }
            guard Self.samePath(t, modelPath) else {
                throw ValidationError("--tokenizer-path must be the model folder (a separate tokenizer is not supported)")
            }
        }
        guard Logger.Level(rawValue: logLevel) != nil else { throw ValidationError("--log-level \(logLevel) is not a log level") }
    }

    /// One line per accepted flag that does not do here what it does in SGLang.
    var notes: [String] {
        var out: [String] = []
        if let tp = tpSize, tp != 1 { out.append("--tp-size \(tp): ignored; this server runs on the CPUs of one machine") }
        if let dp = dpSize, dp != 1 { out.append("--dp-size \(dp): ignored; one engine serves all requests") }
        out += speculative.notes
        if disableSharedExpertsFusion { out.append("--disable-shared-experts-fusion: no effect; shared experts are never fused here") }
        if let d = kvCacheDtype { out.append("--kv-cache-dtype \(d): ignored; the KV cache is f32") }
        if let note = dtype.note { out.append(note) }
        return out
    }

    var engineOptions: EngineOptions {
        var o = EngineOptions(maxRunningRequests: maxRunningRequests, maxWaitingRequests: maxQueuedRequests)
        if let c = chunkedPrefillSize { o.chunkedPrefillSize = c > 0 ? c : nil }
        if let m = memFractionStatic { o.memFractionStatic = m }
        o.maxTotalTokens = maxTotalTokens
        o.blockSize = pageSize
        o.enableRadixCache = !disableRadixCache
        o.speculativeDraftTokens = (try? speculative.draftTokens) ?? 0  // checked in validate()
        return o
    }

    static func duration(_ seconds: Double) -> Duration { .milliseconds(Int((seconds * 1000).rounded())) }

    /// `a` and `b` name the same folder or repo id (after `~`, `.`, `..`, a trailing `/` and symlinks).
    static func samePath(_ a: String, _ b: String) -> Bool {
        func normal(_ p: String) -> String {
            URL(fileURLWithPath: (p as NSString).expandingTildeInPath).standardizedFileURL.resolvingSymlinksInPath().path
        }
        return a == b || normal(a) == normal(b)
    }

    /// The server's configuration; `demoDirectory` (the embedded model's folder) stands in for an
    /// omitted `--model-path`, and its name for an omitted `--served-model-name`.
    func serverConfiguration(demoDirectory: URL? = nil) -> ServerConfiguration {
        var c = ServerConfiguration(modelPath: modelPath ?? demoDirectory?.path ?? "")
        c.servedModelName = servedModelName ?? (modelPath == nil ? DemoModel.name : nil)
        c.host = host
        c.port = port
        c.apiKey = apiKey
        c.allowedOrigins = allowedOrigins
        c.maxConnections = maxConnections
        c.idleTimeout = Self.duration(idleTimeout)
        c.bodyReadTimeout = Self.duration(bodyReadTimeout)
        c.schemaBudget.compileTime = Self.duration(jsonSchemaTimeout)
        c.contextLength = contextLength
        c.maxRunningRequests = maxRunningRequests
        c.maxQueuedRequests = maxQueuedRequests
        c.maxRequestBodyBytes = maxRequestBodyBytes
        // The demo model is a GLM-4.5: parse its tool calls and reasoning unless told otherwise.
        c.toolCallParser = toolCallParser ?? (modelPath == nil ? "glm45" : nil)
        c.reasoningParser = reasoningParser ?? (modelPath == nil ? "glm45" : nil)
        c.chatTemplate = chatTemplate
        c.enableMetrics = enableMetrics
        c.logRequests = logRequests
        c.threads = threads
        c.precision = dtype.precision
        c.weightCheck = weightCheck
        c.debugLoadDelay = .milliseconds(Int(max(0, debugLoadDelay) * 1000))
        return c
    }

    func run() async throws {
        var logger = Logger(label: "glm.serve")
        logger.logLevel = Logger.Level(rawValue: logLevel) ?? .info
        for note in notes { logger.notice("\(note)") }
        let demo = modelPath == nil ? try DemoModel.directory() : nil
        if let demo {
            let note = "no --model-path: serving the embedded demo model \(DemoModel.name) from \(demo.path); "
                + "--model-path selects a real checkpoint (glm45 tool-call and reasoning parsers on)"
            logger.notice("\(note)")
        }
        let configuration = serverConfiguration(demoDirectory: demo)
        let options = engineOptions, engineLogger = logger
        let makeEngine: EngineFactory = { model in
            var options = options
            options.speculativeDraftTokens = SpeculativeOptions.drafts(options.speculativeDraftTokens, for: model) {
                engineLogger.notice("\($0)")
            }
            return try BatchingEngine(model: model, options: options)
        }
        let app = try buildApplication(configuration: configuration, makeEngine: makeEngine, logger: logger)
        logger.info("glm serve: starting on \(host):\(port); loading \(configuration.modelPath) in the background (/health is 503 until ready)")
        try await app.runService()
    }
}
