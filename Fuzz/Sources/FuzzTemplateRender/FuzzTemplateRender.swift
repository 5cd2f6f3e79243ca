import Foundation
import FuzzKit
import OrderedJSON
import Templates

/// The official GLM-4.5 chat template (and, for breadth, the other fixture templates) rendered
/// over fuzzed conversations: rendering returns text or throws a `TemplateError` /
/// `ChatInputError`, never crashes or hangs (the step limit bounds it), and is deterministic.
///
/// Input: one byte of options (generation prompt, continue_final_message, enable_thinking,
/// which template), then either a JSON conversation (`[messages]` or `{"messages", "tools",
/// "chat_template_kwargs"}`) or, when that does not parse, raw text split at NUL bytes into
/// messages whose roles cycle through system/user/assistant/tool.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzTemplateRender(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    var reader = FuzzReader(Fuzz.bytes(data, size))
    let options = reader.byte()
    let payload = reader.rest()

    var messages: [JSONValue]
    var tools: [JSONValue]? = nil
    var extra: [String: JSONValue] = [:]
    if let json = try? JSONValue.parse(data: Data(payload)) {
        guard let conversation = try? ChatInput.parseConversation(json) else { return 0 }
        (messages, tools) = conversation
        if case .object(let kwargs)? = json["chat_template_kwargs"] {
            for (k, v) in kwargs.entries { extra[k] = v }
        }
    } else {
        let roles = ["system", "user", "assistant", "tool"]
        messages = payload.split(separator: 0, omittingEmptySubsequences: false).enumerated().map { i, chunk in
            .object(JSONObject([("role", .string(roles[(i + Int(options >> 6)) % roles.count])),
                                ("content", .string(String(decoding: chunk, as: UTF8.self)))]))
        }
    }
    switch (options >> 2) & 3 {
    case 1: extra["enable_thinking"] = .bool(false)
    case 2: extra["enable_thinking"] = .bool(true)
    default: break
    }
    let continueFinal = options & 2 != 0
    let addGenerationPrompt = options & 1 == 0 && !continueFinal
    let template = templates[(options >> 4) & 3 == 3 ? Int(options >> 6) % templates.count : 0]

    func render() -> Result<String, Error> {
        Result { try template.render(messages: messages, tools: tools, addGenerationPrompt: addGenerationPrompt,
                                     continueFinalMessage: continueFinal, extra: extra) }
    }
    let first = render()
    switch first {
    case .success(let text):
        if case .success(let again) = render() { Fuzz.check(again == text, "rendering is not deterministic") }
        else { Fuzz.check(false, "the second render threw") }
    case .failure(let error):
        Fuzz.check(error is TemplateError || error is ChatInputError, "render threw \(type(of: error)): \(error)")
    }
    return 0
}

/// GLM-4.5's template with the demo model's special tokens, as `glm serve` loads it, then the
/// other fixture templates.
let templates: [ChatTemplate] = {
    let root = FuzzPaths.repoRoot
    let demo = root.appendingPathComponent("Sources/DemoModel/glm-4.5-demo")
    let official = root.deletingLastPathComponent().appendingPathComponent("shared/glm45/chat_template.jinja")
    let glm45 = try! ChatTemplateLoader.load(modelDirectory: demo,
                                             overrideFile: FileManager.default.fileExists(atPath: official.path) ? official : nil)
    var list = [glm45]
    let fixtures = root.appendingPathComponent("Tests/Fixtures/templates/templates")
    for name in ["glm-4.6.jinja", "glm-4.7-flash.jinja", "qwen3.jinja", "llama-3.2.jinja"] {
        if let source = try? String(contentsOf: fixtures.appendingPathComponent(name), encoding: .utf8),
           let t = try? ChatTemplate(source: source, defaultVariables: glm45.defaultVariables) {
            list.append(t)
        }
    }
    for i in list.indices {
        list[i].stepLimit = 200_000
        list[i].now = { Date(timeIntervalSince1970: 1_750_000_000) }
    }
    return list
}()

@main enum FuzzTemplateRenderMain {
    static func main() {
        _ = templates.count
        Fuzz.main(fuzzTemplateRender)
    }
}
