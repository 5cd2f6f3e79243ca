import Foundation
import Hummingbird
import OpenAIAPI
import OrderedJSON

/// `POST /v1/responses`: OpenAI's Responses API, translated into a chat completion request
/// (`ResponsesTranslation`) and planned by `ChatPlan`; the output comes back as `reasoning`
/// (`reasoning_text` content, as vLLM returns it), `message` (`output_text`) and `function_call`
/// items. Stateless: nothing is stored, so there is no retrieval or `previous_response_id`.
struct ResponsesController: Sendable {
    let services: ServerServices

    func handle(_ request: Request, context: ServerRequestContext) async throws -> Response {
        var request = request  // read here, then watched for the client going away
        let body = try await services.jsonBody(of: &request)
        let original = try JSONValue.parseRequest(body)
        let (plan, model) = try await ChatPlan.make(translating: original, services: services, context: context,
                                                    fieldName: ResponsesTranslation.fieldName, ResponsesTranslation.chatRequest)
        let permit = try services.admission.acquire(1)
        let reply = ResponsesReply(request: original, id: randomID("resp_"), model: services.configuration.modelName,
                                   promptTokens: plan.promptIds.count)
        let services = self.services
        return try await GenerationResponse.make(
            request: request, permit: permit, stream: plan.stream, encode: { ByteBuffer(string: $0.compactJSON) },
            events: { writer in try await Self.stream(plan, reply: reply, model: model, services: services, writer: &writer) },
            complete: { try await Self.complete(plan, reply: reply, model: model, services: services) })
    }

    static func complete(_ plan: ChatPlan, reply: ResponsesReply, model: ServingModel,
                         services: ServerServices) async throws -> JSONValue {
        var items = ResponsesItemStream()
        let output = ChatChoiceOutput(plan.parsing)
        var end: (FinishKind, Int, Int)?
        try await TextGeneration.run(plan.specs[0], model: model, metrics: services.metrics) { event in
            switch event {
            case .text(let text, _):
                _ = items.events(for: output.feed(text))
            case .finished(let kind, _, let generated, let cached):
                _ = items.events(for: output.finish()) + items.close()
                end = (kind, generated, cached)
            }
        }
        guard let (kind, generated, cached) = end else { throw CancellationError() }
        return reply.response(items.output, finish: kind, completionTokens: generated, cachedTokens: cached,
                              reasoningTokens: items.reasoningTokens)
    }

    /// The Responses event stream: `response.created`, `response.in_progress`; per output item
    /// `response.output_item.added`, its parts and deltas, `response.output_item.done`; then
    /// `response.completed` (or `response.incomplete` at max_output_tokens). Every event has a
    /// `sequence_number`; an error after the stream started is an `error` event.
    static func stream(_ plan: ChatPlan, reply: ResponsesReply, model: ServingModel, services: ServerServices,
                       writer: inout any ResponseBodyWriter) async throws {
        var sequence = 0
        func send(_ event: JSONValue, to writer: inout any ResponseBodyWriter) async throws {
            guard case .object(var fields) = event, let type = fields["type"]?.stringValue else { return }
            fields["sequence_number"] = .int(sequence)
            sequence += 1
            try await SSE.send(event: type, .object(fields), to: &writer)
        }
        let started = reply.response([], finish: nil, completionTokens: 0, cachedTokens: 0, reasoningTokens: 0)
        try await send(["type": "response.created", "response": started], to: &writer)
        try await send(["type": "response.in_progress", "response": started], to: &writer)
        var items = ResponsesItemStream()
        let output = ChatChoiceOutput(plan.parsing)
        do {
            try await TextGeneration.run(plan.specs[0], model: model, metrics: services.metrics) { event in
                var events: [JSONValue]
                switch event {
                case .text(let text, _):
                    events = items.events(for: output.feed(text))
                case .finished(let kind, _, let generated, let cached):
                    events = items.events(for: output.finish()) + items.close()
                    let response = reply.response(items.output, finish: kind, completionTokens: generated,
                                                  cachedTokens: cached, reasoningTokens: items.reasoningTokens)
                    events.append(["type": kind == .length ? "response.incomplete" : "response.completed", "response": response])
                }
                for e in events { try await send(e, to: &writer) }
            }
        } catch let error where !(error is CancellationError) {
            let e = ErrorMapping.apiError(error)
            try await send(["type": "error", "code": e.code.map(JSONValue.string) ?? .null, "message": .string(e.message),
                            "param": e.param.map(JSONValue.string) ?? .null], to: &writer)
        }
    }
}

/// The parts of a response that do not depend on the output: ids, model, the request's settings.
struct ResponsesReply: Sendable {
    let request: JSONValue
    let id: String
    let model: String
    let promptTokens: Int
    let created = unixTime()

    func response(_ output: [JSONValue], finish: FinishKind?, completionTokens: Int, cachedTokens: Int,
                  reasoningTokens: Int) -> JSONValue {
        var r: JSONObject = ["id": .string(id), "object": "response", "created_at": .int(created), "model": .string(model)]
        switch finish {
        case nil: r["status"] = "in_progress"
        case .length?:
            r["status"] = "incomplete"
            r["incomplete_details"] = ["reason": "max_output_tokens"]
        default: r["status"] = "completed"
        }
        r["output"] = .array(output)
        for (key, fallback) in [("instructions", JSONValue.null), ("tools", .array([])), ("tool_choice", "auto"),
                                ("parallel_tool_calls", true), ("temperature", .null), ("top_p", .null),
                                ("max_output_tokens", .null), ("text", ["format": ["type": "text"]]),
                                ("reasoning", .null), ("metadata", .object([:]))] {
            r[key] = request[key].flatMap { $0 == .null ? nil : $0 } ?? fallback
        }
        r["error"] = .null
        if finish != nil {
            r["usage"] = ["input_tokens": .int(promptTokens), "input_tokens_details": ["cached_tokens": .int(cachedTokens)],
                          "output_tokens": .int(completionTokens),
                          "output_tokens_details": ["reasoning_tokens": .int(reasoningTokens)],
                          "total_tokens": .int(promptTokens + completionTokens)]
        }
        return .object(r)
    }
}

/// Output items from chat deltas: an item opens when output of another kind (reasoning, text, a
/// new tool call) begins and the open one is done. Keeps the finished items for the response.
struct ResponsesItemStream {
    private enum Kind: Equatable {
        case reasoning, message
        case call(Int)
    }
    private var open: (kind: Kind, item: JSONObject, text: String)?
    private(set) var output: [JSONValue] = []
    /// Chat deltas (one per token) while reasoning was being written: the reasoning tokens, near
    /// enough (the parsers hold back a token or two around `<think>` and `</think>`).
    private(set) var reasoningTokens = 0

    mutating func events(for delta: ChatDelta) -> [JSONValue] {
        var out: [JSONValue] = []
        if let r = delta.reasoningContent, !r.isEmpty {
            out += start(.reasoning, ["id": .string(randomID("rs_")), "type": "reasoning", "summary": [], "content": []],
                         part: ["type": "reasoning_text", "text": ""])
            out.append(append(r, type: "response.reasoning_text.delta"))
        }
        if open?.kind == .reasoning, delta.content?.isEmpty ?? true, delta.toolCalls?.isEmpty ?? true { reasoningTokens += 1 }
        if let c = delta.content, !c.isEmpty {
            out += start(.message, ["id": .string(randomID("msg_")), "type": "message", "role": "assistant", "content": []],
                         part: ["type": "output_text", "text": "", "annotations": []])
            out.append(append(c, type: "response.output_text.delta"))
        }
        for call in delta.toolCalls ?? [] {
            if let name = call.function.name {
                out += start(.call(call.index), ["id": .string(randomID("fc_")), "type": "function_call",
                                                 "call_id": .string(call.id ?? ""), "name": .string(name), "arguments": ""],
                             part: nil)
            }
            if let fragment = call.function.arguments, !fragment.isEmpty, open?.kind == .call(call.index) {
                out.append(append(fragment, type: "response.function_call_arguments.delta"))
            }
        }
        return out
    }

    /// Finishes the open item, if any.
    mutating func close() -> [JSONValue] {
        guard let (kind, started, text) = open else { return [] }
        open = nil
        let index = output.count
        var item = started, out: [JSONValue] = []
        let id = item["id"] ?? .null
        switch kind {
        case .reasoning:
            let part: JSONValue = ["type": "reasoning_text", "text": .string(text)]
            out.append(["type": "response.reasoning_text.done", "item_id": id, "output_index": .int(index), "content_index": 0,
                        "text": .string(text)])
            out.append(["type": "response.content_part.done", "item_id": id, "output_index": .int(index), "content_index": 0,
                        "part": part])
            item["content"] = [part]
        case .message:
            let part: JSONValue = ["type": "output_text", "text": .string(text), "annotations": []]
            out.append(["type": "response.output_text.done", "item_id": id, "output_index": .int(index), "content_index": 0,
                        "text": .string(text), "logprobs": []])
            out.append(["type": "response.content_part.done", "item_id": id, "output_index": .int(index), "content_index": 0,
                        "part": part])
            item["content"] = [part]
        case .call:
            out.append(["type": "response.function_call_arguments.done", "item_id": id, "output_index": .int(index),
                        "arguments": .string(text)])
            item["arguments"] = .string(text)
        }
        item["status"] = "completed"
        output.append(.object(item))
        out.append(["type": "response.output_item.done", "output_index": .int(index), "item": .object(item)])
        return out
    }

    private mutating func start(_ kind: Kind, _ item: JSONObject, part: JSONValue?) -> [JSONValue] {
        guard open?.kind != kind else { return [] }
        var out = close()
        var added = item
        added["status"] = "in_progress"
        open = (kind, item, "")
        let index = output.count
        out.append(["type": "response.output_item.added", "output_index": .int(index), "item": .object(added)])
        if let part {
            out.append(["type": "response.content_part.added", "item_id": item["id"] ?? .null, "output_index": .int(index),
                        "content_index": 0, "part": part])
        }
        return out
    }

    /// A delta event for the open item (content parts are numbered; a call's arguments are not).
    private mutating func append(_ text: String, type: String) -> JSONValue {
        open?.text += text
        var event: JSONObject = ["type": .string(type), "item_id": open?.item["id"] ?? .null, "output_index": .int(output.count)]
        if case .call? = open?.kind {} else { event["content_index"] = 0 }
        event["delta"] = .string(text)
        if type == "response.output_text.delta" { event["logprobs"] = [] }
        return .object(event)
    }
}
