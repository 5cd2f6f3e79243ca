/// Turns an OpenAI chat request's `messages` / `tools` into what chat templates expect
/// (spec §7.5, §8.6), as vLLM and SGLang do before `apply_chat_template`:
/// * `tool_calls[].function.arguments` JSON strings are decoded into objects (templates call
///   `.items()` on them);
/// * `content: null` becomes "" (jinja2 would print "None");
/// * content given as a list of text parts becomes the joined text (a list of parts would
///   otherwise print as a Python repr in templates that expect a string, e.g. GLM tool results);
/// * tool definitions lose their `null` fields at the tool and function level, so the
///   prompt does not depend on which optional fields a client spelled out.
public enum ChatInput {
    public struct Normalized: Sendable, Equatable {
        public var messages: [JSONValue]
        public var tools: [JSONValue]?
    }

    public static func normalize(messages: [JSONValue], tools: [JSONValue]?) throws -> Normalized {
        var out: [JSONValue] = []
        for (i, m) in messages.enumerated() {
            guard case .object(var msg) = m else { throw ChatInputError("message \(i) is not an object") }
            if let content = msg["content"] { msg["content"] = normalizeContent(content) }
            if case .array(let calls)? = msg["tool_calls"] {
                msg["tool_calls"] = .array(try calls.enumerated().map { j, call in
                    try normalizeToolCall(call, where: "message \(i) tool_calls[\(j)]")
                })
            }
            out.append(.object(msg))
        }
        return Normalized(messages: out, tools: tools.map { $0.map(dropNullFields) })
    }

    /// Reads the CLI/request file form: either a JSON array of messages or an object with
    /// `messages` and optional `tools`.
    public static func parseConversation(_ json: JSONValue) throws -> (messages: [JSONValue], tools: [JSONValue]?) {
        switch json {
        case .array(let messages): return (messages, nil)
        case .object(let o):
            guard case .array(let messages)? = o["messages"] else { throw ChatInputError("expected a \"messages\" array") }
            switch o["tools"] {
            case nil, .null?: return (messages, nil)
            case .array(let tools)?: return (messages, tools)
            default: throw ChatInputError("\"tools\" must be an array")
            }
        default: throw ChatInputError("expected a JSON array of messages or an object with \"messages\"")
        }
    }

    static func normalizeContent(_ content: JSONValue) -> JSONValue {
        switch content {
        case .null: return .string("")
        case .array(let parts):
            var text = ""
            for p in parts {
                switch p {
                case .string(let s): text += s
                case .object(let o) where o["type"] == .string("text"):
                    guard case .string(let s)? = o["text"] else { return content }
                    text += s
                default: return content   // not plain text parts: leave it to the template
                }
            }
            return .string(text)
        default: return content
        }
    }

    static func normalizeToolCall(_ call: JSONValue, where place: String) throws -> JSONValue {
        guard case .object(var c) = call else { throw ChatInputError("\(place) is not an object") }
        if case .object(var f)? = c["function"] {
            if let args = f["arguments"] { f["arguments"] = try decodeArguments(args, place) }
            c["function"] = .object(f)
        } else if let args = c["arguments"] {
            c["arguments"] = try decodeArguments(args, place)
        }
        return .object(c)
    }

    private static func decodeArguments(_ args: JSONValue, _ place: String) throws -> JSONValue {
        guard case .string(let text) = args else { return args }
        if text.allSatisfy(\.isWhitespace) { return .object(JSONObject()) }
        let parsed: JSONValue
        do { parsed = try JSONValue.parse(text) } catch {
            throw ChatInputError("\(place): arguments are not valid JSON (\(error))")
        }
        guard case .object = parsed else { throw ChatInputError("\(place): arguments must be a JSON object") }
        return parsed
    }

    private static func dropNullFields(_ tool: JSONValue) -> JSONValue {
        guard case .object(let o) = tool else { return tool }
        var out = JSONObject()
        for (k, v) in o.entries where v != .null {
            if k == "function", case .object(let f) = v {
                out[k] = .object(JSONObject(f.entries.filter { $0.value != .null }.map { ($0.key, $0.value) }))
            } else {
                out[k] = v
            }
        }
        return .object(out)
    }
}

public struct ChatInputError: Error, CustomStringConvertible, Sendable, Equatable {
    public let message: String
    public init(_ message: String) { self.message = message }
    public var description: String { "invalid chat input: \(message)" }
}

import OrderedJSON