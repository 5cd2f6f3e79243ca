import Engine
import Foundation
import Hummingbird
import Logging
import OpenAIAPI

/// `POST /v1/chat/completions`.
struct ChatController: Sendable {
    let services: ServerServices

    func handle(_ request: Request, context: ServerRequestContext) async throws -> Response {
        var request = request
        let body = try await services.jsonBody(of: &request)
        let model = try services.state.requireModel()
        let configuration = services.configuration
        let clientGone = context.clientGone
        let plan = try await Offload.run {
            try ChatPlan.make(body: body, model: model, configuration: configuration, clientGone: clientGone)
        }
        let permit = try services.admission.acquire(plan.specs.count)
        if configuration.logRequests {
            context.logger.info("chat completion", metadata: [
                "prompt_tokens": "\(plan.promptIds.count)", "n": "\(plan.specs.count)", "stream": "\(plan.stream)",
                "max_tokens": "\(plan.specs[0].request.maxTokens)", "prompt": "\(plan.prompt.debugDescription.prefix(2000))",
            ])
        }
        let id = randomID("chatcmpl-"), created = unixTime()
        let services = self.services
        return try await GenerationResponse.make(
            request: request, permit: permit, stream: plan.stream,
            events: { writer in try await Self.stream(plan, id: id, created: created, model: model, services: services, writer: &writer) },
            complete: { try await Self.complete(plan, id: id, created: created, model: model, services: services) },
            completed: { completion in
                guard configuration.logRequests else { return }
                context.logger.info("chat completion done", metadata: [
                    "finish_reasons": "\(completion.choices.map { $0.finishReason ?? "" })",
                    "completion_tokens": "\(completion.usage.completionTokens)"])
            })
    }

    // MARK: - Non-streaming

    static func complete(_ plan: ChatPlan, id: String, created: Int, model: ServingModel,
                         services: ServerServices) async throws -> ChatCompletion {
        let results = try await withThrowingTaskGroup(of: (Int, ChatChoice, Int, Int).self) { group in
            for (index, spec) in plan.specs.enumerated() {
                group.addTask {
                    let output = ChatChoiceOutput(plan.parsing)
                    var entries: [TokenLogprobEntry] = []
                    var finish = FinishKind.stop, completionTokens = 0, cachedTokens = 0
                    try await TextGeneration.run(spec, model: model, metrics: services.metrics) { event in
                        switch event {
                        case .text(let text, let tokens):
                            entries += Logprobs.chatEntries(tokens, model: model)
                            _ = output.feed(text)
                        case .finished(let kind, _, let generated, let cached):
                            _ = output.finish()
                            finish = kind
                            completionTokens = generated
                            cachedTokens = cached
                        }
                    }
                    let choice = ChatChoice(index: index, message: output.message,
                                            logprobs: plan.logprobs ? ChatLogprobs(content: entries) : nil,
                                            finishReason: output.finishReason(finish))
                    return (index, choice, completionTokens, cachedTokens)
                }
            }
            var out: [(Int, ChatChoice, Int, Int)] = []
            for try await r in group { out.append(r) }
            return out.sorted { $0.0 < $1.0 }
        }
        let usage = CompletionUsage(promptTokens: plan.promptIds.count, completionTokens: results.reduce(0) { $0 + $1.2 },
                                    cachedTokens: results.map(\.3).max() ?? 0)
        return ChatCompletion(id: id, created: created, model: services.configuration.modelName,
                              choices: results.map(\.1), usage: usage)
    }

    // MARK: - Streaming

    enum StreamItem: Sendable {
        case chunk(ChunkChoice)
        case usage(completionTokens: Int, cachedTokens: Int)
        case failed(APIError)
    }

    /// Runs every choice concurrently and writes their chunks as they come: a role chunk first
    /// per choice, then content / reasoning / tool-call deltas, a chunk with the finish reason,
    /// a usage chunk when asked, and `[DONE]`. An error after the stream started is sent as an
    /// `{"error": …}` event before `[DONE]`.
    static func stream(_ plan: ChatPlan, id: String, created: Int, model: ServingModel, services: ServerServices,
                       writer: inout any ResponseBodyWriter) async throws {
        let name = services.configuration.modelName
        func chunk(_ choice: ChunkChoice) -> ChatCompletionChunk {
            ChatCompletionChunk(id: id, created: created, model: name, choices: [choice])
        }
        let (items, continuation) = AsyncStream<StreamItem>.makeStream()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                await withTaskGroup(of: Void.self) { choices in
                    for (index, spec) in plan.specs.enumerated() {
                        choices.addTask {
                            do {
                                try await streamChoice(index, spec, plan: plan, model: model, services: services) {
                                    continuation.yield($0)
                                }
                            } catch is CancellationError {
                            } catch {
                                continuation.yield(.failed(ErrorMapping.apiError(error)))
                            }
                        }
                    }
                }
                continuation.finish()
            }
            var completionTokens = 0, cachedTokens = 0
            var failure: APIError?
            for await item in items {
                switch item {
                case .chunk(let c): try await SSE.send(chunk(c), to: &writer)
                case .usage(let n, let cached):
                    completionTokens += n
                    cachedTokens = max(cachedTokens, cached)
                case .failed(let e):
                    if failure == nil { failure = e }
                    group.cancelAll()
                }
            }
            try Task.checkCancellation()
            if let failure {
                try await SSE.send(failure.body, to: &writer)
            } else if plan.includeUsage {
                let usage = CompletionUsage(promptTokens: plan.promptIds.count, completionTokens: completionTokens,
                                            cachedTokens: cachedTokens)
                try await SSE.send(ChatCompletionChunk(id: id, created: created, model: name, choices: [], usage: usage),
                                   to: &writer)
            }
            try await SSE.done(&writer)
        }
    }

    private static func streamChoice(_ index: Int, _ spec: GenerationSpec, plan: ChatPlan, model: ServingModel,
                                     services: ServerServices, emit: @escaping (StreamItem) -> Void) async throws {
        let output = ChatChoiceOutput(plan.parsing)
        var pending: [TokenLogprobEntry] = []
        emit(.chunk(ChunkChoice(index: index, delta: ChatDelta(role: "assistant", content: ""))))
        func send(_ delta: ChatDelta, finishReason: String? = nil) {
            guard !delta.isEmpty || finishReason != nil else { return }
            let logprobs = plan.logprobs && !pending.isEmpty ? ChatLogprobs(content: pending) : nil
            pending = []
            emit(.chunk(ChunkChoice(index: index, delta: delta, logprobs: logprobs, finishReason: finishReason)))
        }
        try await TextGeneration.run(spec, model: model, metrics: services.metrics) { event in
            switch event {
            case .text(let text, let tokens):
                pending += Logprobs.chatEntries(tokens, model: model)
                send(output.feed(text))
            case .finished(let kind, _, let generated, let cached):
                send(output.finish())
                send(ChatDelta(), finishReason: output.finishReason(kind))
                emit(.usage(completionTokens: generated, cachedTokens: cached))
            }
        }
    }
}

/// OpenAI logprob entries from engine records.
enum Logprobs {
    static func chatEntries(_ tokens: [TokenRecord], model: ServingModel) -> [TokenLogprobEntry] {
        tokens.map { t in
            let (text, bytes) = model.tokenText(t.id)
            let top = t.top.map { alt -> TokenLogprobEntry.Alternative in
                let (s, b) = model.tokenText(alt.id)
                return .init(token: s, logprob: Double(alt.logprob), bytes: b)
            }
            return TokenLogprobEntry(token: text, logprob: Double(t.logprob ?? 0), bytes: bytes, topLogprobs: top)
        }
    }
}
