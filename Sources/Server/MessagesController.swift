import Foundation
import Hummingbird
import OpenAIAPI
import OrderedJSON

/// `POST /v1/messages` and `/v1/messages/count_tokens`: Anthropic's Messages API, which coding
/// agents (Claude Code among them) speak. A request is translated into a chat completion request
/// and planned by `ChatPlan` (same template, sampling, tool_choice and parsers); the output comes
/// back as Anthropic content blocks: `thinking`, `text`, `tool_use`.
///
/// The `model` field is not checked against the served name (agents send their own model names);
/// `thinking: {"type": "disabled"}` turns GLM's thinking off, `enabled` or no `thinking` leaves
/// it on, as the chat template does by default. Errors have Anthropic's shape (see
/// `AnthropicErrorBody`).
struct MessagesController: Sendable {
    let services: ServerServices

    func handle(_ request: Request, context: ServerRequestContext) async throws -> Response {
        var request = request  // read here, then watched for the client going away
        let body = try await services.jsonBody(of: &request)
        let (plan, model) = try await ChatPlan.make(translating: try JSONValue.parseRequest(body), services: services, context: context,
                                                    fieldName: AnthropicTranslation.fieldName) {
            try AnthropicTranslation.chatRequest($0, requireMaxTokens: true)
        }
        let permit = try services.admission.acquire(1)
        let configuration = services.configuration
        if configuration.logRequests {
            context.logger.info("messages", metadata: [
                "prompt_tokens": "\(plan.promptIds.count)", "stream": "\(plan.stream)",
                "max_tokens": "\(plan.specs[0].request.maxTokens)"])
        }
        let reply = AnthropicReply(id: randomID("msg_"), model: configuration.modelName,
                                   promptTokens: plan.promptIds.count)
        let services = self.services
        return try await GenerationResponse.make(
            request: request, permit: permit, stream: plan.stream, encode: { ByteBuffer(string: $0.compactJSON) },
            events: { writer in try await Self.stream(plan, reply: reply, model: model, services: services, writer: &writer) },
            complete: { try await Self.complete(plan, reply: reply, model: model, services: services) },
            streamFailure: { error, writer in try await SSE.send(event: "error", AnthropicErrorBody(error).json, to: &writer) })
    }

    /// `POST /v1/messages/count_tokens`: `{"input_tokens": N}`, the rendered prompt's length.
    func countTokens(_ request: Request, context: ServerRequestContext) async throws -> Response {
        var request = request
        let body = try await services.jsonBody(of: &request)
        let (plan, _) = try await ChatPlan.make(translating: try JSONValue.parseRequest(body), services: services, context: context,
                                                    fieldName: AnthropicTranslation.fieldName) {
            try AnthropicTranslation.chatRequest($0, requireMaxTokens: false)
        }
        let count: JSONValue = ["input_tokens": .int(plan.promptIds.count)]
        return Response(status: .ok, headers: [.contentType: "application/json"],
                        body: .init(byteBuffer: ByteBuffer(string: count.compactJSON)))
    }

    static func complete(_ plan: ChatPlan, reply: AnthropicReply, model: ServingModel,
                         services: ServerServices) async throws -> JSONValue {
        let output = ChatChoiceOutput(plan.parsing)
        var finish = FinishKind.stop, completionTokens = 0, cachedTokens = 0
        try await TextGeneration.run(plan.specs[0], model: model, metrics: services.metrics) { event in
            switch event {
            case .text(let text, _):
                _ = output.feed(text)
            case .finished(let kind, _, let generated, let cached):
                _ = output.finish()
                (finish, completionTokens, cachedTokens) = (kind, generated, cached)
            }
        }
        var blocks: [JSONValue] = []
        if !output.reasoning.isEmpty { blocks.append(["type": "thinking", "thinking": .string(output.reasoning), "signature": ""]) }
        if !output.content.isEmpty { blocks.append(["type": "text", "text": .string(output.content)]) }
        for call in output.toolCalls {
            blocks.append(["type": "tool_use", "id": .string(call.id), "name": .string(call.function.name),
                           "input": AnthropicReply.input(call.function.arguments)])
        }
        return reply.message(content: blocks, stop: reply.stopReason(finish, calledTools: !output.toolCalls.isEmpty),
                             usage: reply.usage(completionTokens: completionTokens, cachedTokens: cachedTokens))
    }

    /// Anthropic's event stream: `message_start`; per content block `content_block_start`, its
    /// deltas (`thinking_delta`, `text_delta`, `input_json_delta`) and `content_block_stop`; then
    /// `message_delta` with the stop reason and usage, and `message_stop`. An error after the
    /// stream started is an `error` event.
    static func stream(_ plan: ChatPlan, reply: AnthropicReply, model: ServingModel, services: ServerServices,
                       writer: inout any ResponseBodyWriter) async throws {
        var events: [(String, JSONValue)] = [("message_start", ["type": "message_start", "message": reply.message(
            content: [], stop: nil, usage: reply.usage(completionTokens: 0, cachedTokens: 0))])]
        let output = ChatChoiceOutput(plan.parsing)
        var blocks = AnthropicBlockStream()
        do {
            try await TextGeneration.run(plan.specs[0], model: model, metrics: services.metrics) { event in
                switch event {
                case .text(let text, _):
                    events += blocks.events(for: output.feed(text))
                case .finished(let kind, _, let generated, let cached):
                    events += blocks.events(for: output.finish()) + blocks.close()
                    let stop = reply.stopReason(kind, calledTools: !output.toolCalls.isEmpty)
                    events.append(("message_delta", ["type": "message_delta", "delta": stop.json,
                                                     "usage": reply.usage(completionTokens: generated, cachedTokens: cached)]))
                    events.append(("message_stop", ["type": "message_stop"]))
                }
                for (name, data) in events { try await SSE.send(event: name, data, to: &writer) }
                events = []
            }
        } catch let error where !(error is CancellationError) {
            let body = AnthropicErrorBody(ErrorMapping.apiError(error))
            try await SSE.send(event: "error", body.json, to: &writer)
        }
    }
}

/// The fixed parts of one reply.
struct AnthropicReply: Sendable {
    let id: String
    let model: String
    let promptTokens: Int

    struct Stop {
        var reason: String
        var sequence: String?
        var json: JSONValue { ["stop_reason": .string(reason), "stop_sequence": sequence.map(JSONValue.string) ?? .null] }
    }

    func message(content: [JSONValue], stop: Stop?, usage: JSONValue) -> JSONValue {
        ["id": .string(id), "type": "message", "role": "assistant", "model": .string(model), "content": .array(content),
         "stop_reason": stop.map { .string($0.reason) } ?? .null,
         "stop_sequence": stop?.sequence.map(JSONValue.string) ?? .null, "usage": usage]
    }

    func stopReason(_ kind: FinishKind, calledTools: Bool) -> Stop {
        switch kind {
        case .length: Stop(reason: "max_tokens")
        case .stopString(let s): Stop(reason: "stop_sequence", sequence: s)
        case .stop: Stop(reason: calledTools ? "tool_use" : "end_turn")
        }
    }

    /// Anthropic counts prompt tokens read from the prefix cache apart from the others.
    func usage(completionTokens: Int, cachedTokens: Int) -> JSONValue {
        ["input_tokens": .int(promptTokens - cachedTokens), "output_tokens": .int(completionTokens),
         "cache_creation_input_tokens": 0, "cache_read_input_tokens": .int(cachedTokens)]
    }

    /// A tool call's arguments (JSON object text from the glm45 parser) as `input`.
    static func input(_ arguments: String) -> JSONValue {
        (try? JSONValue.parse(arguments)).flatMap { $0.objectValue == nil ? nil : $0 } ?? .object([:])
    }
}

/// Turns chat deltas into content-block events: a block opens when output of another kind
/// (reasoning, text, a new tool call) begins, and the open one closes. (The glm45 parser ends a
/// call's arguments before the next call begins, so a closed block never gets more.)
struct AnthropicBlockStream {
    private enum Open: Equatable {
        case thinking, text
        case toolUse(Int)
    }
    private var open: Open?
    private var index = -1

    mutating func events(for delta: ChatDelta) -> [(String, JSONValue)] {
        var out: [(String, JSONValue)] = []
        if let r = delta.reasoningContent, !r.isEmpty {
            out += start(.thinking, ["type": "thinking", "thinking": "", "signature": ""])
            out.append(self.delta(["type": "thinking_delta", "thinking": .string(r)]))
        }
        if let c = delta.content, !c.isEmpty {
            out += start(.text, ["type": "text", "text": ""])
            out.append(self.delta(["type": "text_delta", "text": .string(c)]))
        }
        for call in delta.toolCalls ?? [] {
            if let name = call.function.name {
                out += start(.toolUse(call.index), ["type": "tool_use", "id": .string(call.id ?? ""), "name": .string(name),
                                                    "input": .object([:])])
            }
            if let fragment = call.function.arguments, !fragment.isEmpty, open == .toolUse(call.index) {
                out.append(self.delta(["type": "input_json_delta", "partial_json": .string(fragment)]))
            }
        }
        return out
    }

    /// Closes the open block, if any.
    mutating func close() -> [(String, JSONValue)] {
        guard open != nil else { return [] }
        open = nil
        return [("content_block_stop", ["type": "content_block_stop", "index": .int(index)])]
    }

    private mutating func start(_ kind: Open, _ block: JSONValue) -> [(String, JSONValue)] {
        guard open != kind else { return [] }
        let closed = close()
        index += 1
        open = kind
        return closed + [("content_block_start", ["type": "content_block_start", "index": .int(index), "content_block": block])]
    }

    private func delta(_ delta: JSONValue) -> (String, JSONValue) {
        ("content_block_delta", ["type": "content_block_delta", "index": .int(index), "delta": delta])
    }
}

/// `{"type": "error", "error": {"type", "message"}}` with Anthropic's error types.
struct AnthropicErrorBody {
    let json: JSONValue

    init(_ error: APIError) {
        let type = switch error.status {
        case 400, 405, 422: "invalid_request_error"
        case 401: "authentication_error"
        case 403: "permission_error"
        case 404: "not_found_error"
        case 413: "request_too_large"
        case 429: "rate_limit_error"
        case 503, 529: "overloaded_error"
        default: "api_error"
        }
        json = ["type": "error", "error": ["type": .string(type), "message": .string(error.message)]]
    }
}
