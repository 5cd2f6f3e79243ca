import Engine
import Foundation
import Hummingbird
import OpenAIAPI
import OrderedJSON
import Templates

/// `/health`, `/health_generate`, `/v1/models`, `/tokenize`, `/detokenize`, `/metrics`.
struct InfoController: Sendable {
    let services: ServerServices
    let started = unixTime()

    /// 200 `{"status": "ok"}` when the model is ready, 503 (OpenAI error JSON) while loading.
    func health(_ request: Request, context: some RequestContext) async throws -> Response {
        _ = try services.state.requireModel()
        return try JSONBody.response(["status": "ok"])
    }

    /// SGLang's `/health_generate`: runs a one-token generation through the engine.
    func healthGenerate(_ request: Request, context: some RequestContext) async throws -> Response {
        let model = try services.state.requireModel()
        let permit = try services.admission.acquire(1)
        defer { permit.release() }
        let prompt = model.tokenizer.encode("Hello")
        let spec = GenerationSpec(request: GenerationRequest(prompt: prompt.isEmpty ? [0] : prompt, maxTokens: 1),
                                  stopStrings: [], skipSpecialTokens: true)
        try await TextGeneration.run(spec, model: model, metrics: nil) { _ in }
        return try JSONBody.response(["status": "ok"])
    }

    func models(_ request: Request, context: some RequestContext) async throws -> Response {
        try JSONBody.response(ModelList(data: [try card()]))
    }

    func model(_ request: Request, context: some RequestContext) async throws -> Response {
        let id = context.parameters.getCatchAll().joined(separator: "/")
        let c = try card()
        guard id == c.id || id == services.configuration.modelPath else {
            throw APIError.modelNotFound(id, available: c.id)
        }
        return try JSONBody.response(c)
    }

    private func card() throws -> ModelCard {
        let model = try services.state.requireModel()
        return ModelCard(id: services.configuration.modelName, created: started, ownedBy: "glm",
                         root: services.configuration.modelName, maxModelLen: services.configuration.contextLength(of: model))
    }

    /// vLLM's `/tokenize`: `prompt` as text, or `messages` rendered with the chat template.
    func tokenize(_ request: Request, context: some RequestContext) async throws -> Response {
        var request = request
        let body = try await services.jsonBody(of: &request)
        let model = try services.state.requireModel()
        let configuration = services.configuration
        let tokens = try await Offload.run { () -> [Int] in
            let r = try decodeRequest(TokenizeRequest.self, from: body)
            try RequestChecks.model(r.model, configuration: configuration)
            switch (r.prompt, r.messages) {
            case (let prompt?, nil):
                return model.tokenizer.encode(prompt)
            case (nil, let messages?):
                guard !messages.isEmpty else { throw APIError.invalidRequest("'messages' must be a non-empty array.", param: "messages") }
                guard let template = model.template else {
                    throw APIError.invalidRequest("This model has no chat template.", param: "messages")
                }
                guard case .object(let raw) = try JSONValue.parse(data: body), case .array(let rawMessages)? = raw["messages"] else {
                    throw APIError.invalidRequest("'messages' must be a non-empty array.", param: "messages")
                }
                var extra: [String: JSONValue] = [:]
                if case .object(let kwargs)? = raw["chat_template_kwargs"] { for (k, v) in kwargs.entries { extra[k] = v } }
                let continueFinalMessage = r.continueFinalMessage ?? false
                let prompt = try template.render(messages: rawMessages, tools: raw["tools"]?.arrayValue,
                                                 addGenerationPrompt: r.addGenerationPrompt ?? !continueFinalMessage,
                                                 continueFinalMessage: continueFinalMessage, extra: extra)
                return model.tokenizer.encode(prompt)
            default:
                throw APIError.invalidRequest("Give exactly one of 'prompt' (text) or 'messages'.", param: "prompt")
            }
        }
        return try JSONBody.response(TokenizeResponse(tokens: tokens, maxModelLen: services.configuration.contextLength(of: model)))
    }

    /// vLLM's `/detokenize`: `{"tokens": [...]}` → `{"prompt": text}`.
    func detokenize(_ request: Request, context: some RequestContext) async throws -> Response {
        var request = request
        let body = try await services.jsonBody(of: &request)
        let model = try services.state.requireModel()
        let configuration = services.configuration
        let text = try await Offload.run { () -> String in
            let r = try decodeRequest(DetokenizeRequest.self, from: body)
            try RequestChecks.model(r.model, configuration: configuration)
            try model.validateTokenIds(r.tokens, param: "tokens")
            return model.tokenizer.decode(r.tokens)
        }
        return try JSONBody.response(DetokenizeResponse(prompt: text))
    }

    func metrics(_ request: Request, context: some RequestContext) async throws -> Response {
        guard let metrics = services.metrics else {
            throw APIError.routeNotFound(method: "GET", path: "/metrics")
        }
        if let engine = try? services.state.requireModel().engine as? BatchingEngine { metrics.record(engine.stats) }
        return Response(status: .ok, headers: [.contentType: "text/plain; version=0.0.4; charset=utf-8"],
                        body: .init(byteBuffer: ByteBuffer(string: metrics.render())))
    }
}
