import Constraints
import Engine
import Foundation
import OpenAIAPI
import OrderedJSON
import OutputParsers
import Templates

/// A validated chat request: the rendered prompt, one engine request per choice, and how the
/// output is parsed.
struct ChatPlan: Sendable {
    var prompt: String
    var promptIds: [Int]
    var specs: [GenerationSpec]
    var stream: Bool
    var includeUsage: Bool
    var logprobs: Bool
    var parsing: OutputParsing

    /// How output text becomes reasoning, content and tool calls (`--reasoning-parser`,
    /// `--tool-call-parser`, `separate_reasoning`, `tools`, `tool_choice`).
    struct OutputParsing: Sendable {
        var parseReasoning: Bool
        var parseToolCalls: Bool
        var promptEndsInThink: Bool
        /// The output continues the final message's text, so its white space is kept.
        var continuesFinalMessage: Bool
        /// The request's tools (argument typing needs their schemas).
        var tools: [ToolSpec]
        var toolNames: Set<String>
        /// `parallel_tool_calls: false`: at most one call is returned.
        var maxToolCalls: Int?
        var usesParser: Bool { parseReasoning || parseToolCalls }
    }

    static let roles: Set<String> = ["system", "developer", "user", "assistant", "tool"]

    enum JSONFormat {
        case object
        case schema(JSONSchemaGrammar)
    }

    /// Validates `body` (a `/v1/chat/completions` JSON body) and renders its prompt; compiling a
    /// JSON schema stops with `CancellationError` once `clientGone` says so.
    static func make(body: Data, model: ServingModel, configuration: ServerConfiguration,
                     clientGone: @escaping @Sendable () -> Bool = { false }) throws -> ChatPlan {
        let document = try JSONValue.parseRequest(body)
        let request = try decodeRequest(ChatCompletionRequest.self, from: document)
        try RequestChecks.model(request.model, configuration: configuration)
        guard case .object(let raw) = document else {
            throw APIError.invalidRequest("The request body must be a JSON object.", code: "invalid_json")
        }
        guard !request.messages.isEmpty, case .array(var rawMessages)? = raw["messages"] else {
            throw APIError.invalidRequest("'messages' must be a non-empty array.", param: "messages")
        }
        guard let template = model.template else {
            throw APIError.invalidRequest("This model has no chat template; use /v1/completions or start the server with "
                                          + "--chat-template.", param: "messages")
        }

        // Tools and tool_choice.
        let tools = request.tools ?? []
        var toolNames: [String] = []
        for (i, tool) in tools.enumerated() {
            guard tool.type == "function" else {
                throw APIError.invalidRequest("tools[\(i)].type must be \"function\", got \"\(tool.type)\".", param: "tools[\(i)].type")
            }
            let name = tool.function.name
            guard !name.isEmpty, !name.contains(where: { $0.isNewline }) else {
                throw APIError.invalidRequest("tools[\(i)].function.name must be a non-empty name without line breaks.",
                                              param: "tools[\(i)].function.name")
            }
            guard !toolNames.contains(name) else {
                throw APIError.invalidRequest("tools[\(i)]: the function name '\(name)' is used twice.", param: "tools[\(i)].function.name")
            }
            switch tool.function.parameters {
            case nil, .null?, .object?: break
            default:
                throw APIError.invalidRequest("tools[\(i)].function.parameters must be a JSON schema object.",
                                              param: "tools[\(i)].function.parameters")
            }
            toolNames.append(name)
        }
        let choice = request.toolChoice ?? (tools.isEmpty ? .none : .auto)
        switch choice {
        case .required where tools.isEmpty:
            throw APIError.invalidRequest("tool_choice \"required\" needs a non-empty 'tools' list.", param: "tool_choice")
        case .function(let name) where !toolNames.contains(name):
            throw APIError.invalidRequest("tool_choice names the function '\(name)', which is not in 'tools'.", param: "tool_choice")
        default: break
        }
        let renderTools = !tools.isEmpty && choice != .none

        // response_format: nil for text, else the JSON grammar the answer must follow.
        let jsonFormat: JSONFormat?
        switch request.responseFormat?.type {
        case nil, "text"?: jsonFormat = nil
        case let type? where type == "json_object" || type == "json_schema":
            switch choice {
            case .required, .function:
                throw APIError.invalidRequest("response_format \"\(type)\" cannot be combined with a forced tool call "
                                              + "(tool_choice \"required\" or a named function).", param: "response_format")
            default: break
            }
            if type == "json_object" {
                jsonFormat = .object
            } else {
                guard case .object(let spec)? = raw["response_format"]?["json_schema"], let schema = spec["schema"] else {
                    throw APIError.invalidRequest("response_format \"json_schema\" needs 'json_schema': {\"name\": ..., "
                                                  + "\"schema\": {...}}.", param: "response_format.json_schema.schema")
                }
                do {
                    var budget = configuration.schemaBudget
                    budget.isCancelled = clientGone
                    jsonFormat = .schema(try JSONSchemaGrammar(schema: schema, budget: budget))
                } catch let error as JSONSchemaError {
                    throw APIError.invalidRequest("The JSON schema in response_format cannot be enforced: \(error.description).",
                                                  param: "response_format.json_schema.schema")
                }
            }
        case let other?:
            throw APIError.invalidRequest("response_format.type must be \"text\", \"json_object\" or \"json_schema\"; got "
                                          + "\"\(other)\".", param: "response_format.type")
        }

        // Messages.
        for (i, m) in request.messages.enumerated() {
            guard roles.contains(m.role) else {
                throw APIError.invalidRequest("messages[\(i)].role must be one of system, developer, user, assistant, tool; "
                                              + "got \"\(m.role)\".", param: "messages[\(i)].role")
            }
            if case .parts(let parts)? = m.content, let bad = parts.first(where: { $0.type != "text" }) {
                throw APIError.invalidRequest("messages[\(i)].content: content parts of type \"\(bad.type)\" are not supported "
                                              + "by this model; only \"text\".", param: "messages[\(i)].content")
            }
            if m.role == "user" || m.role == "system" || m.role == "developer", m.content == nil {
                throw APIError.invalidRequest("messages[\(i)].content is required for role \"\(m.role)\".",
                                              param: "messages[\(i)].content")
            }
            for (j, call) in (m.toolCalls ?? []).enumerated() {
                let place = "messages[\(i)].tool_calls[\(j)]"
                guard m.role == "assistant" else {
                    throw APIError.invalidRequest("\(place): only assistant messages carry tool calls.", param: place)
                }
                if !tools.isEmpty && !toolNames.contains(call.function.name) {
                    throw APIError.invalidRequest("\(place) calls '\(call.function.name)', which is not in 'tools'.",
                                                  param: "\(place).function.name")
                }
                switch call.function.arguments {
                case .string(let s)?:
                    let trimmed = s.trimmingCharacters(in: .whitespacesAndNewlines)
                    if !trimmed.isEmpty {
                        guard case .object? = try? JSONValue.parse(trimmed) else {
                            throw APIError.invalidRequest("\(place).function.arguments must be a JSON object encoded as a string.",
                                                          param: "\(place).function.arguments")
                        }
                    }
                case .object?, nil, .null?: break
                default:
                    throw APIError.invalidRequest("\(place).function.arguments must be a JSON object encoded as a string.",
                                                  param: "\(place).function.arguments")
                }
            }
            // The template knows system, not OpenAI's newer "developer" role.
            if m.role == "developer", case .object(var o) = rawMessages[i] {
                o["role"] = .string("system")
                rawMessages[i] = .object(o)
            }
        }

        // Render and tokenize.
        var extra: [String: JSONValue] = [:]
        if case .object(let kwargs)? = raw["chat_template_kwargs"] {
            for (k, v) in kwargs.entries where !["messages", "tools", "add_generation_prompt"].contains(k) { extra[k] = v }
        }
        let rawTools: [JSONValue]? = renderTools ? raw["tools"]?.arrayValue : nil
        // Assistant prefill: the final message stays open and the output continues it.
        let continueFinalMessage = request.continueFinalMessage ?? false
        if continueFinalMessage && request.addGenerationPrompt == true {
            throw APIError.invalidRequest("'continue_final_message' and 'add_generation_prompt' cannot both be true: the "
                                          + "first continues the final message, the second starts a new one.",
                                          param: "continue_final_message")
        }
        let prompt = try template.render(messages: rawMessages, tools: rawTools,
                                         addGenerationPrompt: request.addGenerationPrompt ?? !continueFinalMessage,
                                         continueFinalMessage: continueFinalMessage, extra: extra)
        let promptIds = model.tokenizer.encode(prompt)

        // Limits and sampling.
        let n = try RequestChecks.choiceCount(request.n)
        let logprobs = request.logprobs ?? false
        var topLogprobs: Int?
        if let top = request.topLogprobs {
            guard (0...20).contains(top) else {
                throw APIError.invalidRequest("'top_logprobs' must be between 0 and 20, got \(top).", param: "top_logprobs")
            }
            guard logprobs else {
                throw APIError.invalidRequest("'top_logprobs' needs 'logprobs' set to true.", param: "top_logprobs")
            }
            topLogprobs = top
        }
        if logprobs && topLogprobs == nil { topLogprobs = 0 }
        let (budget, param) = request.maxCompletionTokens.map { ($0, "max_completion_tokens") } ?? (request.maxTokens, "max_tokens")
        let maxTokens = try RequestChecks.maxTokens(budget, param: param, promptTokens: promptIds.count,
                                                    context: configuration.contextLength(of: model))
        let sampling = try SamplingPlan(request.sampling, model: model, prompt: promptIds, maxTokens: maxTokens)
        if let topLogprobs {
            try RequestChecks.heldLogprobs(choices: n, maxTokens: maxTokens, alternatives: topLogprobs, stream: request.stream ?? false,
                                           param: "top_logprobs")
        }

        // Output parsing and constrained decoding.
        let parsing = OutputParsing(
            parseReasoning: configuration.parsesReasoning && request.separateReasoning != false,
            parseToolCalls: configuration.parsesToolCalls && renderTools,
            promptEndsInThink: Glm45ReasoningStreamParser.promptEndsInsideThink(prompt),
            continuesFinalMessage: continueFinalMessage,
            tools: ToolSpec.list(fromOpenAITools: rawTools ?? []), toolNames: Set(toolNames),
            maxToolCalls: request.parallelToolCalls == false ? 1 : nil)
        var grammar: ToolCallGrammar?
        switch choice {
        case .required, .function:
            grammar = try ToolGrammarBuilder.grammar(for: choice, tools: rawTools ?? [], model: model,
                                                     stopTokens: sampling.stopTokenIds,
                                                     parallel: request.parallelToolCalls ?? true)
        default: break
        }
        let startsInReasoning = ToolGrammarBuilder.thinks(prompt: prompt)
        if sampling.minTokens > 0 && (grammar != nil || jsonFormat != nil) {
            throw APIError.invalidRequest("'min_tokens' cannot be combined with a forced tool call or a JSON response_format: "
                                          + "those end the output when their structure is complete.",
                                          param: "min_tokens")
        }

        let skipSpecial = request.skipSpecialTokens ?? true
        let specs = (0..<n).map { i -> GenerationSpec in
            var extra: [any LogitProcessor] = []
            if let grammar { extra.append(ToolCallConstraint(grammar: grammar, startsInReasoning: startsInReasoning)) }
            switch jsonFormat {
            case .object?:
                extra.append(JSONConstraint.object(vocabulary: model.tokenBytes, stopTokens: sampling.stopTokenIds,
                                                   thinkEnd: model.markup?.thinkEnd, startsInReasoning: startsInReasoning))
            case .schema(let grammar)?:
                extra.append(JSONConstraint.schema(grammar, vocabulary: model.tokenBytes, stopTokens: sampling.stopTokenIds,
                                                   thinkEnd: model.markup?.thinkEnd, startsInReasoning: startsInReasoning))
            case nil: break
            }
            let request = GenerationRequest(prompt: promptIds, maxTokens: maxTokens, sampling: sampling.parameters(forChoice: i),
                                            stopTokenIds: sampling.stopTokenIds, processors: sampling.processors(extra: extra),
                                            topLogprobs: topLogprobs)
            return GenerationSpec(request: request, stopStrings: sampling.stopStrings, skipSpecialTokens: skipSpecial,
                                  minTokens: sampling.minTokens)
        }
        let stream = request.stream ?? false
        return ChatPlan(prompt: prompt, promptIds: promptIds, specs: specs, stream: stream,
                        includeUsage: stream && request.streamOptions?.includeUsage == true, logprobs: logprobs,
                        parsing: parsing)
    }
}

/// Builds the token grammar that `tool_choice: "required"` / a named function enforces.
enum ToolGrammarBuilder {
    /// True when the model will think before answering: the prompt does not already close the
    /// think block (GLM-4.5 with `enable_thinking: false` ends the prompt with `<think></think>`).
    static func thinks(prompt: String) -> Bool {
        var end = prompt.endIndex
        while end > prompt.startIndex, prompt[prompt.index(before: end)].isWhitespace { end = prompt.index(before: end) }
        return !prompt[..<end].hasSuffix("</think>")
    }

    static func grammar(for choice: ToolChoice, tools: [JSONValue], model: ServingModel, stopTokens: Set<Int>,
                        parallel: Bool) throws -> ToolCallGrammar {
        guard let m = model.markup else {
            throw APIError.invalidRequest("tool_choice \"required\" or a named function needs GLM's tool-call tokens, "
                                          + "which this model's tokenizer lacks.", param: "tool_choice")
        }
        var functions: [ToolCallGrammar.Function] = []
        for tool in tools {
            guard case .object(let f)? = tool["function"], case .string(let name)? = f["name"] else { continue }
            if case .function(let wanted) = choice, wanted != name { continue }
            var properties: [(name: String, tokens: [Int])]? = []
            var required: Set<String> = []
            if case .object(let schema)? = f["parameters"] {
                if case .object(let props)? = schema["properties"] {
                    let open = schema["additionalProperties"].map { v -> Bool in
                        if case .bool(false) = v { return false }
                        return true
                    } ?? false
                    properties = open ? nil : props.keys.map { ($0, model.tokenizer.encode($0, allowSpecial: false)) }
                    if case .array(let names)? = schema["required"] {
                        required = Set(names.compactMap(\.stringValue)).intersection(props.keys)
                    }
                } else {
                    properties = nil
                }
            }
            if properties?.contains(where: { $0.tokens.isEmpty }) == true { properties = nil }
            functions.append(.init(name: name, nameTokens: model.tokenizer.encode(name + "\n", allowSpecial: false),
                                   properties: properties, required: required))
        }
        let tokens = ToolCallGrammar.Tokens(
            newline: m.newline, toolCallStart: m.toolCallStart, toolCallEnd: m.toolCallEnd, argKeyStart: m.argKeyStart,
            argKeyEnd: m.argKeyEnd, argValueStart: m.argValueStart, argValueEnd: m.argValueEnd, thinkEnd: m.thinkEnd)
        var multiple = parallel
        if case .function = choice { multiple = false }
        return ToolCallGrammar(functions: functions, tokens: tokens, stopTokens: stopTokens,
                               markupTokens: model.addedTokenIds, allowsMultipleCalls: multiple)
    }
}

extension ChatPlan {
    /// The plan of another API's request (Anthropic's Messages, OpenAI's Responses), translated
    /// into the chat completion request it means.
    /// Errors about the chat request name the caller's field instead (`fieldName`), in `param`
    /// and where the message quotes it.
    static func make(translating request: JSONValue, services: ServerServices, context: ServerRequestContext,
                     fieldName: @escaping @Sendable (String) -> String,
                     _ translate: (JSONValue) throws -> JSONValue) async throws -> (ChatPlan, ServingModel) {
        let model = try services.state.requireModel()
        let configuration = services.configuration
        let chatBody = Data(try translate(request).compactJSON.utf8)
        do {
            let clientGone = context.clientGone
            let plan = try await Offload.run {
                try ChatPlan.make(body: chatBody, model: model, configuration: configuration, clientGone: clientGone)
            }
            return (plan, model)
        } catch var error as APIError {
            if let param = error.param {
                let own = fieldName(param)
                error.message = error.message.replacingOccurrences(of: param, with: own)
                error.param = own
            }
            throw error
        }
    }
}
