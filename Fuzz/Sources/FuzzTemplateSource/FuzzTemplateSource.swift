import Foundation
import FuzzKit
import OrderedJSON
import Templates

/// The Jinja lexer, parser and interpreter on any template text: `ChatTemplate(source:)` parses
/// it or throws a `.syntax` `TemplateError`; a parsed template renders over a fixed set of
/// variables (a conversation with tools, plus values of every JSON type) to text or a
/// `TemplateError`, within a small step limit.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTemplateSource(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    let source = String(decoding: Fuzz.bytes(data, size), as: UTF8.self)
    var template: ChatTemplate
    do { template = try ChatTemplate(source: source, defaultVariables: ["bos_token": "[gMASK]<sop>", "eos_token": "<|endoftext|>"]) } catch {
        guard let e = error as? TemplateError else {
            Fuzz.check(false, "parsing threw \(type(of: error)): \(error)")
            return 0
        }
        Fuzz.check(e.kind == .syntax, "parsing threw a \(e.kind) error: \(e)")
        return 0
    }
    template.stepLimit = 20_000
    template.now = { Date(timeIntervalSince1970: 1_750_000_000) }
    do { _ = try template.render(variables: variables) } catch {
        Fuzz.check(error is TemplateError, "render threw \(type(of: error)): \(error)")
    }
    do {
        _ = try template.render(messages: variables["messages"]!.arrayValue!, tools: variables["tools"]!.arrayValue,
                                extra: ["enable_thinking": false])
    } catch {
        Fuzz.check(error is TemplateError || error is ChatInputError, "render(messages:) threw \(type(of: error)): \(error)")
    }
    return 0
}

let variables: [String: JSONValue] = {
    guard case .object(let o) = try! JSONValue.parse(#"""
    {"messages": [
       {"role": "system", "content": "Be terse."},
       {"role": "user", "content": [{"type": "text", "text": "Weather in Paris?"}]},
       {"role": "assistant", "content": "", "reasoning_content": "Need a tool.",
        "tool_calls": [{"id": "call_1", "type": "function",
                        "function": {"name": "get_weather", "arguments": {"city": "Paris", "days": 2}}}]},
       {"role": "tool", "tool_call_id": "call_1", "content": "{\"temp\": 21.5}"},
       {"role": "assistant", "content": "<think>x</think>21.5 °C"}],
     "tools": [{"type": "function", "function": {"name": "get_weather", "description": "Weather.",
                "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}}],
     "add_generation_prompt": true, "enable_thinking": true, "documents": null,
     "n": 3, "x": -1.5, "big": 123456789012345678901234567890, "s": "a\u0000b\"'<>{{}}%", "e": "", "l": [1, [2, [3]], {"k": null}],
     "o": {"b": 1, "a": [true, false, null]}, "nan": NaN}
    """#) else { fatalError("variables are an object") }
    var out: [String: JSONValue] = [:]
    for (k, v) in o.entries { out[k] = v }
    return out
}()

@main enum FuzzTemplateSourceMain {
    static func main() { Fuzz.main(fuzzTemplateSource) }
}
