import Foundation
import OpenAIAPI
import OrderedJSON

/// An OpenAI Responses API request as the chat completion request that `ChatPlan` plans:
/// `instructions` becomes a system message; `input` items become messages (`function_call` items
/// join the assistant turn before them as `tool_calls`, `reasoning` items its `reasoning_content`,
/// `function_call_output` items are `tool` messages); function `tools`, `tool_choice`,
/// `parallel_tool_calls`, `max_output_tokens`, `temperature`, `top_p`, `stream` and `text.format`
/// map onto their chat forms; `reasoning.effort` "none" or "minimal" turns GLM's thinking off.
/// The server keeps no state: `previous_response_id` and `conversation` are refused.
enum ResponsesTranslation {
    static func chatRequest(_ body: JSONValue) throws -> JSONValue {
        guard let request = body.objectValue else { throw invalid("The request body must be a JSON object.", nil) }
        for key in ["previous_response_id", "conversation"] where request[key] != nil && request[key] != .null {
            throw invalid("'\(key)': this server keeps no responses; send the whole conversation in 'input'.", key)
        }
        if request["background"] == .bool(true) { throw invalid("'background' responses are not supported.", "background") }

        var chat: JSONObject = [:]
        var messages: [JSONValue] = []
        if let instructions = request["instructions"], instructions != .null {
            guard let text = instructions.stringValue else { throw invalid("'instructions' must be a string.", "instructions") }
            messages.append(["role": "system", "content": .string(text)])
        }
        switch request["input"] {
        case .string(let text)?:
            messages.append(["role": "user", "content": .string(text)])
        case .array(let items)?:
            messages += try translate(items)
        default:
            throw invalid("'input' must be a string or an array of input items.", "input")
        }
        chat["messages"] = .array(messages)

        if let n = request["max_output_tokens"], n != .null {
            guard case .int(let count) = n, count > 0 else {
                throw invalid("'max_output_tokens' must be a positive integer.", "max_output_tokens")
            }
            chat["max_tokens"] = n
        }
        for key in ["temperature", "top_p", "parallel_tool_calls", "stream", "chat_template_kwargs"]
        where request[key] != nil && request[key] != .null {
            chat[key] = request[key]
        }
        if request["stream"] == .bool(true) { chat["stream_options"] = ["include_usage": true] }
        if let tools = request["tools"], tools != .null {
            guard case .array(let items) = tools else { throw invalid("'tools' must be an array.", "tools") }
            chat["tools"] = .array(try items.enumerated().map { try tool($1, at: "tools[\($0)]") })
        }
        if let choice = request["tool_choice"], choice != .null { chat["tool_choice"] = try toolChoice(choice) }
        if let format = request["text"]?["format"], format != .null { chat["response_format"] = try responseFormat(format) }
        if let effort = request["reasoning"]?["effort"], effort != .null {
            guard let name = effort.stringValue, Self.efforts.contains(name) else {
                throw invalid("'reasoning.effort' must be one of \(Self.efforts.joined(separator: ", ")).", "reasoning.effort")
            }
        }
        for (key, valid) in [("store", request["store"]?.boolValue != nil), ("user", request["user"]?.stringValue != nil)]
        where request[key] != nil && request[key] != .null && !valid {
            throw invalid("'\(key)' must be \(key == "store" ? "a boolean" : "a string").", key)
        }
        if let effort = request["reasoning"]?["effort"]?.stringValue, effort == "none" || effort == "minimal" {
            var kwargs = chat["chat_template_kwargs"]?.objectValue ?? [:]
            kwargs["enable_thinking"] = false
            chat["chat_template_kwargs"] = .object(kwargs)
        }
        return .object(chat)
    }

    /// Input items in order; consecutive reasoning, assistant text and function calls make one
    /// assistant message.
    private static func translate(_ items: [JSONValue]) throws -> [JSONValue] {
        var out: [JSONValue] = []
        var assistant: JSONObject?
        func flush() {
            if let a = assistant { out.append(.object(a)) }
            assistant = nil
        }
        func assistantTurn(_ update: (inout JSONObject) -> Void) {
            var a = assistant ?? ["role": "assistant", "content": ""]
            update(&a)
            assistant = a
        }
        for (i, item) in items.enumerated() {
            let at = "input[\(i)]"
            let type = item["type"]?.stringValue ?? (item["role"] != nil ? "message" : nil)
            switch type {
            case "message":
                guard let role = item["role"]?.stringValue, ["user", "system", "developer", "assistant"].contains(role) else {
                    throw invalid("\(at).role must be \"user\", \"system\", \"developer\" or \"assistant\".", "\(at).role")
                }
                let text = try self.text(item["content"], at: "\(at).content")
                if role == "assistant" {
                    assistantTurn { a in
                        let before = a["content"]?.stringValue ?? ""
                        a["content"] = .string(before.isEmpty ? text : before + "\n" + text)
                    }
                } else {
                    flush()
                    out.append(["role": .string(role), "content": .string(text)])
                }
            case "reasoning":
                let parts = (item["content"]?.arrayValue ?? []) + (item["summary"]?.arrayValue ?? [])
                let text = parts.compactMap { $0["text"]?.stringValue }.joined(separator: "\n")
                if !text.isEmpty { assistantTurn { $0["reasoning_content"] = .string(text) } }
            case "function_call":
                guard let id = item["call_id"]?.stringValue, let name = item["name"]?.stringValue,
                      let arguments = item["arguments"]?.stringValue else {
                    throw invalid("\(at) must have string call_id, name and arguments.", at)
                }
                let call: JSONValue = ["id": .string(id), "type": "function",
                                       "function": ["name": .string(name), "arguments": .string(arguments)]]
                assistantTurn { $0["tool_calls"] = .array(($0["tool_calls"]?.arrayValue ?? []) + [call]) }
            case "function_call_output":
                guard let id = item["call_id"]?.stringValue, let output = item["output"] else {
                    throw invalid("\(at) must have a string call_id and an output.", at)
                }
                flush()
                out.append(["role": "tool", "tool_call_id": .string(id),
                            "content": .string(try text(output, at: "\(at).output"))])
            default:
                let what = type.map { "\"\($0)\"" } ?? "without a type or role"
                throw invalid("\(at): an input item \(what) is not supported (messages, reasoning, function_call and "
                              + "function_call_output are).", "\(at).type")
            }
        }
        flush()
        return out
    }

    /// Message content or a call's output: a string, or text parts joined by new lines.
    private static func text(_ value: JSONValue?, at place: String) throws -> String {
        if case .string(let s)? = value { return s }
        if case .array(let parts)? = value {
            let texts = parts.compactMap { part -> String? in
                guard let type = part["type"]?.stringValue, ["input_text", "output_text", "text"].contains(type) else { return nil }
                return part["text"]?.stringValue
            }
            if texts.count == parts.count { return texts.joined(separator: "\n") }
        }
        throw invalid("\(place) must be a string or an array of text parts (this model reads text only).", place)
    }

    /// A function tool (`name`, `description`, `parameters`, `strict`) in the chat form.
    private static func tool(_ tool: JSONValue, at place: String) throws -> JSONValue {
        guard tool["type"]?.stringValue == "function" else {
            let type = tool["type"]?.stringValue ?? "?"
            throw invalid("\(place).type \"\(type)\": only function tools are supported.", "\(place).type")
        }
        guard let name = tool["name"]?.stringValue else { throw invalid("\(place).name must be a string.", "\(place).name") }
        var function: JSONObject = ["name": .string(name)]
        for key in ["description", "parameters", "strict"] where tool[key] != nil && tool[key] != .null {
            function[key] = tool[key]
        }
        return ["type": "function", "function": .object(function)]
    }

    private static func toolChoice(_ choice: JSONValue) throws -> JSONValue {
        if let mode = choice.stringValue, ["auto", "none", "required"].contains(mode) { return choice }
        if choice["type"]?.stringValue == "function", let name = choice["name"]?.stringValue {
            return ["type": "function", "function": ["name": .string(name)]]
        }
        throw invalid("'tool_choice' must be \"auto\", \"none\", \"required\" or {\"type\": \"function\", \"name\": …}.",
                      "tool_choice")
    }

    static let efforts = ["none", "minimal", "low", "medium", "high", "xhigh"]

    /// The Responses name of a field of the chat request this translation makes, for errors that
    /// planning the chat request reports.
    static func fieldName(_ chat: String) -> String {
        if chat == "messages" || chat.hasPrefix("messages[") { return "input" }
        if chat == "max_tokens" || chat == "max_completion_tokens" { return "max_output_tokens" }
        if chat.hasPrefix("response_format") { return "text.format" }
        if chat.hasPrefix("chat_template_kwargs") { return "reasoning.effort" }
        return chat.replacingOccurrences(of: ".function.parameters", with: ".parameters")
            .replacingOccurrences(of: ".function.name", with: ".name")
    }

    private static func responseFormat(_ format: JSONValue) throws -> JSONValue {
        switch format["type"]?.stringValue {
        case "text": return ["type": "text"]
        case "json_object": return ["type": "json_object"]
        case "json_schema":
            guard let schema = format["schema"] else { throw invalid("'text.format.schema' is required.", "text.format.schema") }
            var spec: JSONObject = ["name": format["name"] ?? "output", "schema": schema]
            if let strict = format["strict"] { spec["strict"] = strict }
            return ["type": "json_schema", "json_schema": .object(spec)]
        default:
            throw invalid("'text.format.type' must be \"text\", \"json_object\" or \"json_schema\".", "text.format.type")
        }
    }

    private static func invalid(_ message: String, _ param: String?) -> APIError {
        APIError.invalidRequest(message, param: param)
    }
}
