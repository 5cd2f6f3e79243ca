import Engine
import Foundation
import Hummingbird
import HummingbirdCore
import Logging
import Models
import NIOCore
import OpenAIAPI
import ServiceLifecycle

/// What every route shares: the configuration, the model state, admission control and metrics.
public struct ServerServices: Sendable {
    public let configuration: ServerConfiguration
    public let state: ServerState
    let admission: AdmissionControl
    public let metrics: ServerMetrics?

    public init(configuration: ServerConfiguration, state: ServerState) {
        self.configuration = configuration
        self.state = state
        admission = AdmissionControl(capacity: configuration.maxRunningRequests + configuration.maxQueuedRequests)
        metrics = configuration.enableMetrics ? ServerMetrics() : nil
    }
}

extension ServerServices {
    /// A request's JSON body within the configured size and time limits.
    func jsonBody(of request: inout Request) async throws -> Data {
        try await request.jsonBody(limit: configuration.maxRequestBodyBytes, timeout: configuration.bodyReadTimeout)
    }
}

/// Makes the engine for a loaded model (one per server).
public typealias EngineFactory = @Sendable (GLM4MoEModel) throws -> any InferenceEngine

/// The `glm serve` application: the HTTP server starts at once (/health answers 503) while the
/// model loads in the background; requests are served once it is ready. A model that fails to
/// load stops the application with the error.
public func buildApplication(configuration: ServerConfiguration, makeEngine: @escaping EngineFactory,
                             logger: Logger) throws -> some ApplicationProtocol {
    let state = ServerState()
    let services = ServerServices(configuration: configuration, state: state)
    let loader = ModelLoader(configuration: configuration, state: state, makeEngine: makeEngine, logger: logger)
    return Application(
        router: buildRouter(services: services),
        server: .http1(configuration: .init(idleTimeout: TimeAmount(configuration.idleTimeout))),
        configuration: .init(address: .hostname(configuration.host, port: configuration.port), serverName: "glm",
                             availableConnectionsDelegate: MaximumAvailableConnections(configuration.maxConnections)),
        services: [loader],
        logger: logger)
}

/// The routes, behind the error and API-key middlewares.
public func buildRouter(services: ServerServices) -> Router<ServerRequestContext> {
    let router = Router(context: ServerRequestContext.self)
    router.middlewares.add(OpenAIErrorMiddleware(services: services))
    // Browsers may call the API only from the origins named with --allowed-origins (a page the
    // user opens must not drive a server on localhost); preflight requests are answered before
    // the API-key check.
    if !services.configuration.allowedOrigins.isEmpty {
        router.middlewares.add(AllowedOriginsMiddleware(origins: services.configuration.allowedOrigins))
    }
    if let key = services.configuration.apiKey, !key.isEmpty {
        router.middlewares.add(APIKeyMiddleware(key: key))
    }
    let info = InfoController(services: services)
    let chat = ChatController(services: services)
    let completions = CompletionController(services: services)
    let messages = MessagesController(services: services)
    let responses = ResponsesController(services: services)
    router.get("/health") { try await info.health($0, context: $1) }
    router.get("/health_generate") { try await info.healthGenerate($0, context: $1) }
    router.get("/v1/models") { try await info.models($0, context: $1) }
    router.get("/v1/models/**") { try await info.model($0, context: $1) }
    router.post("/v1/chat/completions") { try await chat.handle($0, context: $1) }
    router.post("/v1/completions") { try await completions.handle($0, context: $1) }
    router.post("/v1/responses") { try await responses.handle($0, context: $1) }
    router.post("/v1/messages") { try await messages.handle($0, context: $1) }
    router.post("/v1/messages/count_tokens") { try await messages.countTokens($0, context: $1) }
    for prefix in ["", "/v1"] {
        router.post("\(prefix)/tokenize") { try await info.tokenize($0, context: $1) }
        router.post("\(prefix)/detokenize") { try await info.detokenize($0, context: $1) }
    }
    router.get("/metrics") { try await info.metrics($0, context: $1) }
    return router
}

/// Loads the model in the background, then waits for shutdown.
struct ModelLoader: Service {
    let configuration: ServerConfiguration
    let state: ServerState
    let makeEngine: EngineFactory
    let logger: Logger

    func run() async throws {
        if configuration.debugLoadDelay > .zero { try await Task.sleep(for: configuration.debugLoadDelay) }
        let start = ContinuousClock.now
        do {
            let configuration = self.configuration, makeEngine = self.makeEngine
            let model = try await Offload.run {
                let directory = try ModelLocator.resolve(configuration.modelPath)
                return try ServingModel.load(directory: directory, configuration: configuration,
                                             weightCheck: configuration.weightCheck, makeEngine: makeEngine)
            }
            state.phase = .ready(model)
            let config = model.engine.model.config
            logger.info("model ready", metadata: [
                "path": "\(model.directory.path)", "served_model_name": "\(configuration.modelName)",
                "layers": "\(config.numHiddenLayers)", "context_length": "\(model.contextLength)",
                "load_seconds": "\(String(format: "%.2f", Double((ContinuousClock.now - start).nanoseconds) / 1e9))"])
        } catch {
            state.phase = .failed("\(error)")
            logger.error("cannot load the model: \(error)")
            throw error
        }
        try await gracefulShutdown()
    }
}

/// Maps every error to OpenAI's error JSON, or Anthropic's under /v1/messages (the one place
/// that does), and counts and logs responses.
struct OpenAIErrorMiddleware: RouterMiddleware {
    typealias Context = ServerRequestContext
    let services: ServerServices

    static let endpoints: Set<String> = ["/health", "/health_generate", "/v1/models", "/v1/chat/completions",
                                         "/v1/completions", "/tokenize", "/detokenize", "/v1/tokenize", "/v1/detokenize",
                                         "/metrics", "/v1/responses", "/v1/messages", "/v1/messages/count_tokens"]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let start = ContinuousClock.now
        var response: Response
        do {
            response = try await next(request, context)
        } catch {
            var apiError = map(error, request: request)
            if apiError.status == APIError.clientClosedRequest.status {
                context.logger.debug("\(request.method) \(request.uri.path): the client went away; generation cancelled")
            } else if apiError.status >= 500 && apiError.status != 503 && apiError.code == nil {
                // The details are for the log; the client gets an id to quote.
                let id = randomID("req-")
                context.logger.error("\(request.method) \(request.uri.path) failed (request id \(id)): \(error)")
                apiError = .internalError(requestID: id)
            }
            response = request.uri.path.hasPrefix("/v1/messages") ? JSONBody.anthropicError(apiError) : JSONBody.error(apiError)
        }
        let path = request.uri.path
        let endpoint = Self.endpoints.contains(path) ? path : (path.hasPrefix("/v1/models/") ? "/v1/models/{id}" : "other")
        services.metrics?.recordResponse(endpoint: endpoint, status: Int(response.status.code))
        if services.configuration.logRequests {
            let ms = Double((ContinuousClock.now - start).nanoseconds) / 1e6
            context.logger.info("\(request.method) \(path) \(response.status.code) \(String(format: "%.1f", ms)) ms")
        }
        return response
    }

    func map(_ error: Error, request: Request) -> APIError {
        switch error {
        case is CancellationError:
            return .clientClosedRequest
        case let e as HTTPError:
            switch e.status {
            case .notFound: return .routeNotFound(method: "\(request.method)", path: request.uri.path)
            case .methodNotAllowed: return .methodNotAllowed(method: "\(request.method)", path: request.uri.path)
            case .contentTooLarge: return .bodyTooLarge(limit: services.configuration.maxRequestBodyBytes)
            default:
                return APIError(status: Int(e.status.code), message: e.body ?? e.status.reasonPhrase,
                                type: e.status.code < 500 ? "invalid_request_error" : "internal_server_error")
            }
        case let e as HTTPResponseError:
            return APIError(status: Int(e.status.code), message: "\(e.status.reasonPhrase)",
                            type: e.status.code < 500 ? "invalid_request_error" : "internal_server_error")
        default:
            return ErrorMapping.apiError(error)
        }
    }
}

/// CORS for `--allowed-origins`: a request from a listed origin (any, with `*`) gets
/// Hummingbird's CORS headers and its preflight answered; others get none, so browsers refuse
/// to let the page read the answer or send a JSON body.
struct AllowedOriginsMiddleware: RouterMiddleware {
    typealias Context = ServerRequestContext
    let origins: Set<String>
    let cors = CORSMiddleware<ServerRequestContext>(
        allowOrigin: .originBased,
        allowHeaders: [.accept, .authorization, .contentType, .origin, .init("x-api-key")!, .init("anthropic-version")!],
        allowMethods: [.get, .post, .options])

    init(origins: [String]) { self.origins = Set(origins) }

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        guard let origin = request.headers[.origin], origins.contains("*") || origins.contains(origin) else {
            return try await next(request, context)
        }
        return try await cors.handle(request, context: context, next: next)
    }
}

/// `--api-key`: `Authorization: Bearer <key>` (or Anthropic's `x-api-key: <key>`) on every
/// route but exactly /health and /metrics, compared in constant time. `/health_generate` runs a
/// generation, so it needs the key like any other.
struct APIKeyMiddleware: RouterMiddleware {
    typealias Context = ServerRequestContext
    let key: [UInt8]

    init(key: String) { self.key = Array(key.utf8) }

    /// The paths served without the key (by exact path: `/health/x` or `/health_generate` are not).
    static let open: Set<String> = ["/health", "/metrics"]

    func handle(_ request: Request, context: Context, next: (Request, Context) async throws -> Response) async throws -> Response {
        let path = request.uri.path
        if Self.open.contains(path) { return try await next(request, context) }
        var presented: [UInt8] = []
        if let header = request.headers[.authorization] {
            let parts = header.split(separator: " ", maxSplits: 1)
            if parts.count == 2, parts[0].lowercased() == "bearer" {
                presented = Array(parts[1].trimmingCharacters(in: .whitespaces).utf8)
            }
        } else if let field = request.headers.first(where: { $0.name.canonicalName == "x-api-key" }) {
            presented = Array(field.value.trimmingCharacters(in: .whitespaces).utf8)
        }
        guard Self.constantTimeEqual(presented, key) else { throw APIError.invalidAPIKey }
        return try await next(request, context)
    }

    /// Compares without stopping at the first difference (time depends on the lengths only).
    static func constantTimeEqual(_ a: [UInt8], _ b: [UInt8]) -> Bool {
        var difference = UInt8(a.count == b.count ? 0 : 1)
        for i in 0..<max(a.count, b.count) {
            let x = i < a.count ? a[i] : 0, y = i < b.count ? b[i] : 0
            difference |= x ^ y
        }
        return difference == 0
    }
}
