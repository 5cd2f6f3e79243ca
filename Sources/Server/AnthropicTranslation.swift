import Foundation
import OpenAIAPI
import OrderedJSON

/// An Anthropic Messages request as the chat completion request that `ChatPlan` plans: `system`
/// becomes a system message; user `tool_result` blocks become `tool` messages; assistant
/// `thinking`, `text` and `tool_use` blocks become `reasoning_content`, `content` and
/// `tool_calls`; `tools`, `tool_choice`, `stop_sequences`, `max_tokens`, `stream`, structured
/// output (`output_config.format`) and, where a client still sends them, `temperature`, `top_p`
/// and `top_k` map onto their OpenAI forms. Errors name the Anthropic field.
enum AnthropicTranslation {
    static func chatRequest(_ body: JSONValue, requireMaxTokens: Bool) throws -> JSONValue {
        guard let request = body.objectValue else { throw invalid("The request body must be a JSON object.", nil) }
        var chat: JSONObject = [:]
        var messages: [JSONValue] = []
        if let system = request["system"] {
            messages.append(["role": "system", "content": .string(try text(system, at: "system"))])
        }
        guard case .array(let list)? = request["messages"], !list.isEmpty else {
            throw invalid("'messages' must be a non-empty array.", "messages")
        }
        for (i, message) in list.enumerated() {
            messages += try translate(message, at: "messages[\(i)]")
        }
        chat["messages"] = .array(messages)

        if let maxTokens = request["max_tokens"] {
            guard case .int(let n) = maxTokens, n > 0 else { throw invalid("'max_tokens' must be a positive integer.", "max_tokens") }
            chat["max_tokens"] = maxTokens
        } else if requireMaxTokens {
            throw invalid("'max_tokens' is required.", "max_tokens")
        }
        for key in ["temperature", "top_p", "top_k"] {
            if let value = request[key] { chat[key] = value }
        }
        if let stops = request["stop_sequences"] {
            guard case .array(let items) = stops, items.allSatisfy({ $0.stringValue != nil }) else {
                throw invalid("'stop_sequences' must be an array of strings.", "stop_sequences")
            }
            chat["stop"] = stops
        }
        if let stream = request["stream"] {
            guard case .bool(let on) = stream else { throw invalid("'stream' must be a boolean.", "stream") }
            chat["stream"] = stream
            if on { chat["stream_options"] = ["include_usage": true] }
        }
        if let tools = request["tools"] {
            guard case .array(let items) = tools else { throw invalid("'tools' must be an array.", "tools") }
            chat["tools"] = .array(try items.enumerated().map { try tool($1, at: "tools[\($0)]") })
        }
        if let choice = request["tool_choice"] {
            let (openAI, parallel) = try toolChoice(choice)
            chat["tool_choice"] = openAI
            if let parallel { chat["parallel_tool_calls"] = .bool(parallel) }
        }
        if let thinking = request["thinking"] {
            if let budget = thinking["budget_tokens"] {
                guard case .int(let n) = budget, n >= 1024 else {
                    throw invalid("'thinking.budget_tokens' must be an integer of at least 1024.", "thinking.budget_tokens")
                }
            }
            switch thinking["type"]?.stringValue {
            case "enabled", "adaptive", "between_tools": chat["chat_template_kwargs"] = ["enable_thinking": true]
            case "disabled": chat["chat_template_kwargs"] = ["enable_thinking": false]
            default:
                throw invalid("'thinking.type' must be \"enabled\", \"adaptive\", \"between_tools\" or \"disabled\".",
                              "thinking.type")
            }
        }
        if let format = request["output_config"]?["format"], format != .null {
            guard format["type"]?.stringValue == "json_schema", let schema = format["schema"] else {
                throw invalid("'output_config.format' must be {\"type\": \"json_schema\", \"schema\": {…}}.",
                              "output_config.format")
            }
            chat["response_format"] = ["type": "json_schema", "json_schema": ["name": "output", "schema": schema]]
        }
        return .object(chat)
    }

    /// One Anthropic message as chat messages: a user message's `tool_result` blocks are
    /// `tool` messages, in block order with its text.
    private static func translate(_ message: JSONValue, at place: String) throws -> [JSONValue] {
        guard let role = message["role"]?.stringValue, role == "user" || role == "assistant" else {
            throw invalid("\(place).role must be \"user\" or \"assistant\".", "\(place).role")
        }
        guard let content = message["content"] else { throw invalid("\(place).content is required.", "\(place).content") }
        if case .string(let s) = content { return [["role": .string(role), "content": .string(s)]] }
        guard case .array(let blocks) = content else {
            throw invalid("\(place).content must be a string or an array of content blocks.", "\(place).content")
        }
        var out: [JSONValue] = []
        var texts: [String] = [], reasoning: [String] = [], calls: [JSONValue] = []
        func flushUserText() {
            if !texts.isEmpty { out.append(["role": "user", "content": .string(texts.joined(separator: "\n"))]) }
            texts = []
        }
        for (j, block) in blocks.enumerated() {
            let at = "\(place).content[\(j)]"
            switch (role, block["type"]?.stringValue) {
            case (_, "text"):
                guard let t = block["text"]?.stringValue else { throw invalid("\(at).text must be a string.", "\(at).text") }
                texts.append(t)
            case ("user", "tool_result"):
                guard let id = block["tool_use_id"]?.stringValue else {
                    throw invalid("\(at).tool_use_id must be a string.", "\(at).tool_use_id")
                }
                flushUserText()
                let result = try block["content"].map { try text($0, at: "\(at).content") } ?? ""
                out.append(["role": "tool", "tool_call_id": .string(id), "content": .string(result)])
            case ("assistant", "thinking"):
                reasoning.append(block["thinking"]?.stringValue ?? "")
            case ("assistant", "redacted_thinking"):
                continue
            case ("assistant", "tool_use"):
                guard let id = block["id"]?.stringValue, let name = block["name"]?.stringValue,
                      let input = block["input"], input.objectValue != nil else {
                    throw invalid("\(at) must have a string id and name and an object input.", at)
                }
                calls.append(["id": .string(id), "type": "function",
                              "function": ["name": .string(name), "arguments": .string(input.compactJSON)]])
            case (_, let type):
                let what = type.map { "\"\($0)\"" } ?? "without a type"
                throw invalid("\(at): a \(role) content block \(what) is not supported (this model reads text; "
                              + "users send text and tool_result blocks, assistants text, thinking and tool_use).", "\(at).type")
            }
        }
        if role == "user" {
            flushUserText()
            return out
        }
        var assistant: JSONObject = ["role": "assistant", "content": .string(texts.joined(separator: "\n"))]
        if !reasoning.isEmpty { assistant["reasoning_content"] = .string(reasoning.joined(separator: "\n")) }
        if !calls.isEmpty { assistant["tool_calls"] = .array(calls) }
        return [.object(assistant)]
    }

    /// `system` or a `tool_result`'s content: a string, or text blocks joined by new lines.
    private static func text(_ value: JSONValue, at place: String) throws -> String {
        if case .string(let s) = value { return s }
        if case .array(let blocks) = value {
            let texts = blocks.compactMap { $0["type"]?.stringValue == "text" ? $0["text"]?.stringValue : nil }
            if texts.count == blocks.count { return texts.joined(separator: "\n") }
        }
        throw invalid("\(place) must be a string or an array of text blocks.", place)
    }

    /// The Anthropic name of a field of the chat request this translation makes, for errors that
    /// planning the chat request reports.
    static func fieldName(_ chat: String) -> String {
        if chat == "stop" { return "stop_sequences" }
        if chat.hasPrefix("response_format") { return "output_config.format" }
        if chat.hasPrefix("chat_template_kwargs") { return "thinking" }
        if chat == "parallel_tool_calls" { return "tool_choice.disable_parallel_tool_use" }
        return chat.replacingOccurrences(of: ".function.parameters", with: ".input_schema")
            .replacingOccurrences(of: ".function.name", with: ".name")
    }

    /// A custom tool (`name`, `description`, `input_schema`) as an OpenAI function tool.
    private static func tool(_ tool: JSONValue, at place: String) throws -> JSONValue {
        if let type = tool["type"]?.stringValue, type != "custom" {
            throw invalid("\(place).type \"\(type)\": only custom tools (name, description, input_schema) are supported.",
                          "\(place).type")
        }
        guard let name = tool["name"]?.stringValue else { throw invalid("\(place).name must be a string.", "\(place).name") }
        var function: JSONObject = ["name": .string(name)]
        if let description = tool["description"] { function["description"] = description }
        guard case .object? = tool["input_schema"] else {
            throw invalid("\(place).input_schema is required: a JSON schema object of the tool's input.", "\(place).input_schema")
        }
        function["parameters"] = tool["input_schema"]
        return ["type": "function", "function": .object(function)]
    }

    /// `tool_choice` as OpenAI's, and `parallel_tool_calls` from `disable_parallel_tool_use`.
    private static func toolChoice(_ choice: JSONValue) throws -> (JSONValue, Bool?) {
        let parallel = choice["disable_parallel_tool_use"]?.boolValue.map { !$0 }
        switch choice["type"]?.stringValue {
        case "auto": return ("auto", parallel)
        case "any": return ("required", parallel)
        case "none": return ("none", parallel)
        case "tool":
            guard let name = choice["name"]?.stringValue else {
                throw invalid("'tool_choice.name' must name a tool.", "tool_choice.name")
            }
            return (["type": "function", "function": ["name": .string(name)]], parallel)
        default:
            throw invalid("'tool_choice.type' must be \"auto\", \"any\", \"tool\" or \"none\".", "tool_choice.type")
        }
    }

    private static func invalid(_ message: String, _ param: String?) -> APIError {
        APIError.invalidRequest(message, param: param)
    }
}
