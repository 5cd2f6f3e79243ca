import Foundation
import OrderedJSON

/// A compiled chat template, rendered the way HF `apply_chat_template` renders it with jinja2
/// (`trim_blocks`, `lstrip_blocks`, `loopcontrols`, HF's `tojson`, `raise_exception`,
/// `strftime_now`). Parse once, render many times; rendering is thread-safe.
public struct ChatTemplate: Sendable {
    /// The template text as loaded.
    public let source: String
    /// Variables every render gets before `extra` (HF passes the tokenizer's special tokens:
    /// `bos_token`, `eos_token`, …). The loader fills this from `tokenizer_config.json`.
    public var defaultVariables: [String: JSONValue]
    /// Clock for `strftime_now`; replaceable so tests are deterministic.
    public var now: @Sendable () -> Date = { Date() }
    /// Work budget per render (statements, loop iterations, calls); exceeding it throws a
    /// `.limit` error instead of hanging. Real chat templates use a few thousand steps.
    public var stepLimit = 2_000_000

    private let program: Program

    /// Parses the template. Throws `TemplateError` (kind `.syntax`, with the line) if it does not parse.
    public init(source: String, defaultVariables: [String: JSONValue] = [:]) throws {
        self.source = source
        self.defaultVariables = defaultVariables
        self.program = Program(body: try Parser.parse(source))
    }

    /// Renders an OpenAI-format conversation (as `/v1/chat/completions` receives it).
    ///
    /// Messages and tools are first normalised for the template (`ChatInput.normalize`):
    /// tool-call `arguments` strings are decoded to objects, `content: null` becomes "", lists of
    /// text parts are joined. `extra` holds `chat_template_kwargs` such as `enable_thinking`.
    ///
    /// With `continueFinalMessage` the final message is left open for the model to continue
    /// (assistant prefill), as transformers 4.57's `continue_final_message` does it: a marker is
    /// appended to that message's text, the conversation rendered, and the prompt cut where the
    /// marker starts; white space the template trimmed off the message stays trimmed.
    public func render(messages: [JSONValue], tools: [JSONValue]? = nil, addGenerationPrompt: Bool = true,
                       continueFinalMessage: Bool = false, extra: [String: JSONValue] = [:]) throws -> String {
        var input = try ChatInput.normalize(messages: messages, tools: tools)
        let marker = "CONTINUE_FINAL_MESSAGE_TAG "
        var finalText = ""
        if continueFinalMessage {
            guard !addGenerationPrompt else {
                throw ChatInputError("continue_final_message and add_generation_prompt cannot both be set")
            }
            guard case .object(var last)? = input.messages.last, case .string(let text)? = last["content"] else {
                throw ChatInputError("continue_final_message needs a final message with text content")
            }
            finalText = text
            last["content"] = .string(text + marker)
            input.messages[input.messages.count - 1] = .object(last)
        }
        var vars = extra
        vars["messages"] = .array(input.messages)
        vars["tools"] = input.tools.map(JSONValue.array) ?? .null
        vars["add_generation_prompt"] = .bool(addGenerationPrompt)
        if vars["documents"] == nil { vars["documents"] = .null }
        let rendered = try render(variables: vars)
        guard continueFinalMessage else { return rendered }

        let bareMarker = marker.trimmingCharacters(in: .whitespaces)
        let bareText = finalText.trimmingCharacters(in: .whitespacesAndNewlines)
        guard bareText.isEmpty || rendered.contains(bareText),  // (Foundation finds no empty string)
              let at = rendered.range(of: bareMarker, options: .backwards) else {
            throw ChatInputError("continue_final_message: the template does not render the final message's text")
        }
        var open = rendered[..<at.lowerBound]
        if !rendered[at.lowerBound...].hasPrefix(marker) {  // the template trimmed the message
            while open.last?.isWhitespace == true { open.removeLast() }
        }
        return String(open)
    }

    /// Renders with exactly these variables (plus `defaultVariables`), no normalisation:
    /// jinja2's `template.render(**variables)`.
    public func render(variables: [String: JSONValue]) throws -> String {
        let interp = Interpreter()
        defer { interp.releaseMacroScopes() }
        interp.maxSteps = stepLimit
        let globals = Scope(parent: nil)
        Globals.install(into: globals, now: now)
        let root = Scope(parent: globals)
        for (k, v) in defaultVariables { root.vars[k] = Value(json: v) }
        for (k, v) in variables { root.vars[k] = Value(json: v) }
        return try interp.render(program.body, scope: root)
    }
}

/// The parsed statements. The tree is never mutated after parsing, so sharing it is safe.
private final class Program: @unchecked Sendable {
    let body: [Stmt]
    init(body: [Stmt]) { self.body = body }
}
