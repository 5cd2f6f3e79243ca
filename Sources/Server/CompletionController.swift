import Engine
import Foundation
import Hummingbird
import Logging
import OpenAIAPI

/// A validated `/v1/completions` request: one engine request per prompt and choice.
struct CompletionPlan: Sendable {
    struct Choice: Sendable {
        var index: Int
        var promptIndex: Int
        var spec: GenerationSpec
        var echo: String
    }
    var choices: [Choice]
    var promptTokens: Int
    var stream: Bool
    var includeUsage: Bool
    var logprobs: Int?

    static func make(body: Data, model: ServingModel, configuration: ServerConfiguration) throws -> CompletionPlan {
        let request = try decodeRequest(CompletionRequest.self, from: body)
        try RequestChecks.model(request.model, configuration: configuration)
        if let suffix = request.suffix, !suffix.isEmpty {
            throw APIError.invalidRequest("'suffix' is not supported.", param: "suffix")
        }
        let prompts: [[Int]]
        switch request.prompt {
        case .text(let s): prompts = [model.tokenizer.encode(s)]
        case .texts(let list): prompts = list.map { model.tokenizer.encode($0) }
        case .tokens(let ids): prompts = [ids]
        case .tokenLists(let lists): prompts = lists
        }
        guard !prompts.isEmpty, prompts.count <= 64 else {
            throw APIError.invalidRequest("'prompt' must hold between 1 and 64 prompts, got \(prompts.count).", param: "prompt")
        }
        for (i, ids) in prompts.enumerated() {
            if ids.isEmpty { throw APIError.invalidRequest("'prompt'\(prompts.count > 1 ? "[\(i)]" : "") is empty.", param: "prompt") }
            try model.validateTokenIds(ids, param: "prompt")
        }
        let n = try RequestChecks.choiceCount(request.n)
        if n * prompts.count > 128 {
            throw APIError.invalidRequest("'n' times the number of prompts must be at most 128, got \(n * prompts.count).",
                                          param: "n")
        }
        var logprobs: Int?
        if let lp = request.logprobs {
            guard (0...20).contains(lp) else {
                throw APIError.invalidRequest("'logprobs' must be between 0 and 20, got \(lp).", param: "logprobs")
            }
            logprobs = lp
        }
        var choices: [Choice] = []
        for (p, ids) in prompts.enumerated() {
            let maxTokens = try RequestChecks.maxTokens(request.maxTokens ?? 16, param: "max_tokens", promptTokens: ids.count,
                                                        context: configuration.contextLength(of: model))
            let sampling = try SamplingPlan(request.sampling, model: model, prompt: ids, maxTokens: maxTokens)
            let echo = request.echo == true ? model.tokenizer.decode(ids) : ""
            for i in 0..<n {
                let engineRequest = GenerationRequest(prompt: ids, maxTokens: maxTokens, sampling: sampling.parameters(forChoice: i),
                                                      stopTokenIds: sampling.stopTokenIds, processors: sampling.processors(),
                                                      topLogprobs: logprobs)
                let spec = GenerationSpec(request: engineRequest, stopStrings: sampling.stopStrings,
                                          skipSpecialTokens: request.skipSpecialTokens ?? true, minTokens: sampling.minTokens)
                choices.append(Choice(index: p * n + i, promptIndex: p, spec: spec, echo: echo))
            }
        }
        let stream = request.stream ?? false
        if let logprobs {
            try RequestChecks.heldLogprobs(choices: choices.count, maxTokens: choices.map(\.spec.request.maxTokens).max() ?? 0,
                                           alternatives: logprobs, stream: stream, param: "logprobs")
        }
        return CompletionPlan(choices: choices, promptTokens: prompts.reduce(0) { $0 + $1.count }, stream: stream,
                              includeUsage: stream && request.streamOptions?.includeUsage == true, logprobs: logprobs)
    }
}

/// `POST /v1/completions`.
struct CompletionController: Sendable {
    let services: ServerServices

    func handle(_ request: Request, context: some RequestContext) async throws -> Response {
        var request = request
        let body = try await services.jsonBody(of: &request)
        let model = try services.state.requireModel()
        let configuration = services.configuration
        let plan = try await Offload.run { try CompletionPlan.make(body: body, model: model, configuration: configuration) }
        let permit = try services.admission.acquire(plan.choices.count)
        if configuration.logRequests {
            context.logger.info("completion", metadata: [
                "prompt_tokens": "\(plan.promptTokens)", "choices": "\(plan.choices.count)", "stream": "\(plan.stream)"])
        }
        let id = randomID("cmpl-"), created = unixTime()
        let services = self.services
        return try await GenerationResponse.make(
            request: request, permit: permit, stream: plan.stream,
            events: { writer in try await Self.stream(plan, id: id, created: created, model: model, services: services, writer: &writer) },
            complete: { try await Self.complete(plan, id: id, created: created, model: model, services: services) })
    }

    /// Collects one choice: its text, logprobs and finish reason.
    private static func run(_ choice: CompletionPlan.Choice, plan: CompletionPlan, model: ServingModel,
                            services: ServerServices,
                            onPiece: (String, CompletionLogprobs?, String?) async throws -> Void) async throws -> Int {
        var offset = choice.echo.count
        var completionTokens = 0
        if !choice.echo.isEmpty { try await onPiece(choice.echo, plan.logprobs == nil ? nil : CompletionLogprobs(), nil) }
        try await TextGeneration.run(choice.spec, model: model, metrics: services.metrics) { event in
            switch event {
            case .text(let text, let tokens):
                var lp: CompletionLogprobs?
                if let top = plan.logprobs {
                    var l = CompletionLogprobs()
                    for t in tokens {
                        let (s, _) = model.tokenText(t.id)
                        l.tokens.append(s)
                        l.tokenLogprobs.append(Double(t.logprob ?? 0))
                        l.topLogprobs.append(t.top.prefix(top).map { (model.tokenText($0.id).0, Double($0.logprob)) })
                        l.textOffset.append(offset)
                        offset += s.count
                    }
                    lp = l
                }
                if !text.isEmpty || !(lp?.isEmpty ?? true) { try await onPiece(text, lp, nil) }
            case .finished(let kind, _, let generated, _):
                completionTokens = generated
                try await onPiece("", nil, kind == .length ? "length" : "stop")
            }
        }
        return completionTokens
    }

    static func complete(_ plan: CompletionPlan, id: String, created: Int, model: ServingModel,
                         services: ServerServices) async throws -> Completion {
        let results = try await withThrowingTaskGroup(of: (CompletionChoice, Int).self) { group in
            for choice in plan.choices {
                group.addTask {
                    var text = "", logprobs = CompletionLogprobs(), finish = "stop"
                    let generated = try await run(choice, plan: plan, model: model, services: services) { piece, lp, reason in
                        text += piece
                        if let lp { logprobs.append(contentsOf: lp) }
                        if let reason { finish = reason }
                    }
                    return (CompletionChoice(index: choice.index, text: text, logprobs: plan.logprobs == nil ? nil : logprobs,
                                             finishReason: finish), generated)
                }
            }
            var out: [(CompletionChoice, Int)] = []
            for try await r in group { out.append(r) }
            return out.sorted { $0.0.index < $1.0.index }
        }
        let usage = CompletionUsage(promptTokens: plan.promptTokens, completionTokens: results.reduce(0) { $0 + $1.1 })
        return Completion(id: id, created: created, model: services.configuration.modelName, choices: results.map(\.0), usage: usage)
    }

    enum StreamItem: Sendable {
        case choice(CompletionChoice)
        case usage(Int)
        case failed(APIError)
    }

    static func stream(_ plan: CompletionPlan, id: String, created: Int, model: ServingModel, services: ServerServices,
                       writer: inout any ResponseBodyWriter) async throws {
        let name = services.configuration.modelName
        let (items, continuation) = AsyncStream<StreamItem>.makeStream()
        try await withThrowingTaskGroup(of: Void.self) { group in
            group.addTask {
                await withTaskGroup(of: Void.self) { choices in
                    for choice in plan.choices {
                        choices.addTask {
                            do {
                                let generated = try await run(choice, plan: plan, model: model, services: services) { piece, lp, reason in
                                    continuation.yield(.choice(CompletionChoice(index: choice.index, text: piece, logprobs: lp,
                                                                                finishReason: reason)))
                                }
                                continuation.yield(.usage(generated))
                            } catch is CancellationError {
                            } catch {
                                continuation.yield(.failed(ErrorMapping.apiError(error)))
                            }
                        }
                    }
                }
                continuation.finish()
            }
            var completionTokens = 0
            var failure: APIError?
            for await item in items {
                switch item {
                case .choice(let c):
                    try await SSE.send(Completion(id: id, created: created, model: name, choices: [c], usage: nil), to: &writer)
                case .usage(let n): completionTokens += n
                case .failed(let e):
                    if failure == nil { failure = e }
                    group.cancelAll()
                }
            }
            try Task.checkCancellation()
            if let failure {
                try await SSE.send(failure.body, to: &writer)
            } else if plan.includeUsage {
                let usage = CompletionUsage(promptTokens: plan.promptTokens, completionTokens: completionTokens)
                try await SSE.send(Completion(id: id, created: created, model: name, choices: [], usage: usage), to: &writer)
            }
            try await SSE.done(&writer)
        }
    }
}
