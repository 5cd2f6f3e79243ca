import Engine
import Foundation
import Models
import OrderedJSON
import OutputParsers
import Sampling
import Server
import Templates
import Tokenizers

/// The conversation behind `glm chat`, kept apart from the terminal so tests can run it on a
/// list of lines.
///
/// Each turn goes the way `/v1/chat/completions` handles it in `glm serve`: the OpenAI-format
/// history is rendered with the model's chat template (`enable_thinking: false` as a template
/// kwarg when thinking is off), encoded, generated with the same `Generator` as `glm generate`
/// (one for the whole session: its prefix cache holds the history, so a turn prefills little
/// more than what is new), and split by the glm45 reasoning and tool-call parsers. The assistant
/// turn goes back into the history as the server returns it: `content`, `reasoning_content`,
/// `tool_calls`.
final class ChatSession {
    struct Settings {
        /// A system message put before the conversation (kept by `/reset`).
        var system: String?
        var thinking = true
        /// An OpenAI `tools` array; the model may call them, and `/tool` lines answer the calls.
        var tools: [JSONValue] = []
        var maxTokens = 4096
        var sampling = SamplingParameters.greedy
        /// Tokens the MTP layer drafts per step (0: none).
        var speculativeDraftTokens = 0
    }

    /// What one input line asks for.
    enum Command: Equatable {
        case message(String)
        /// `/tool {json}`: the result of the oldest unanswered tool call.
        case toolResult(String)
        /// `/think on|off`.
        case think(Bool)
        case reset
        case exit
        case help
        /// An empty line.
        case nothing
        /// A command that cannot run, with the reason.
        case invalid(String)

        static func parse(_ line: String) -> Command {
            let text = line.trimmingCharacters(in: .whitespacesAndNewlines)
            if text.isEmpty { return .nothing }
            guard text.hasPrefix("/") else { return .message(text) }
            let name = String(text.prefix { !$0.isWhitespace })
            let argument = text.dropFirst(name.count).trimmingCharacters(in: .whitespaces)
            switch name {
            case "/exit", "/quit": return .exit
            case "/reset": return .reset
            case "/help", "/?": return .help
            case "/think":
                switch argument {
                case "on": return .think(true)
                case "off": return .think(false)
                default: return .invalid("usage: /think on|off")
                }
            case "/tool":
                guard !argument.isEmpty else { return .invalid("usage: /tool {json}  (the result of the tool call)") }
                do { _ = try JSONValue.parse(argument) } catch { return .invalid("/tool expects JSON: \(error)") }
                return .toolResult(argument)
            default:
                return .invalid("unknown command \(name); /help lists the commands")
            }
        }
    }

    static let help = """
        Type a message and press Enter. Commands:
          /think on|off   turn the model's thinking on or off
          /tool {json}    answer the oldest pending tool call with this result
          /reset          start a new conversation (the system message stays)
          /exit           quit (also Ctrl-D)
        """

    let model: GLM4MoEModel
    let tokenizer: Tokenizer
    let template: ChatTemplate
    private(set) var settings: Settings
    /// The conversation in OpenAI message form, as a client would send it to the server.
    private(set) var messages: [JSONValue] = []
    /// Calls of the last assistant turn that have no `/tool` result yet, oldest first.
    private(set) var pendingCalls: [ToolCall] = []
    private let toolSpecs: [ToolSpec]
    private let toolNames: Set<String>
    private let stopTokens: Set<Int>
    /// Keeps the conversation's keys and values, so each turn prefills little more than its new tokens.
    private let generator: Generator

    init(model: GLM4MoEModel, tokenizer: Tokenizer, template: ChatTemplate, settings: Settings) throws {
        self.model = model
        self.tokenizer = tokenizer
        self.template = template
        self.settings = settings
        generator = try Generator(model: model, speculativeDraftTokens: settings.speculativeDraftTokens)
        toolSpecs = ToolSpec.list(fromOpenAITools: settings.tools)
        toolNames = Set(toolSpecs.map(\.name))
        var stops = Set(model.config.eosTokenIds)
        if let eos = tokenizer.eosTokenId { stops.insert(eos) }
        stopTokens = stops
        reset()
    }

    /// Loads the tokenizer and chat template from the model's folder (and checks, as the server
    /// does, that every token has an embedding row).
    convenience init(model: GLM4MoEModel, directory: URL, settings: Settings) throws {
        let tokenizer = try ModelAssets.tokenizer(at: directory, gguf: model.checkpoint.gguf)
        guard tokenizer.vocabularySize <= model.config.vocabSize else {
            throw ChatError("the tokenizer has \(tokenizer.vocabularySize) tokens but the model only "
                            + "\(model.config.vocabSize) embedding rows")
        }
        try self.init(model: model, tokenizer: tokenizer, template: try ModelAssets.chatTemplate(at: directory, gguf: model.checkpoint.gguf),
                      settings: settings)
    }

    /// Reads lines until `/exit` or the end of input. With `echo` (input that is not a terminal)
    /// each line is written out after `> `; otherwise a `> ` prompt is shown before reading.
    func run(readLine: () -> String?, printer: ChatPrinter, echo: Bool) {
        while true {
            if !echo { printer.prompt() }
            guard let line = readLine() else {
                if !echo { printer.endLine() }   // Ctrl-D leaves the cursor after the prompt
                return
            }
            if echo { printer.echo(line) } else { printer.inputEnded() }
            if !handle(line, printer: printer) { return }
        }
    }

    /// Runs `lines` as piped input and returns what `glm chat` would print (plain style).
    func transcript(_ lines: [String]) -> String {
        var out = ""
        let printer = ChatPrinter(style: .plain) { out += $0 }
        var input = lines.makeIterator()
        run(readLine: { input.next() }, printer: printer, echo: true)
        return out
    }

    /// Handles one input line; false when the chat should end.
    func handle(_ line: String, printer: ChatPrinter) -> Bool {
        switch Command.parse(line) {
        case .nothing: break
        case .exit: return false
        case .help: printer.notice(Self.help)
        case .invalid(let reason): printer.notice(reason)
        case .reset:
            reset()
            printer.notice("new conversation")
        case .think(let on):
            settings.thinking = on
            printer.notice("thinking \(on ? "on" : "off")")
        case .message(let text):
            // Calls left unanswered stay in the history without results.
            pendingCalls = []
            reply(to: ["role": "user", "content": .string(text)], printer: printer)
        case .toolResult(let result):
            guard let call = pendingCalls.first else {
                printer.notice("no tool call is waiting for a result")
                break
            }
            let message: JSONValue = ["role": "tool", "tool_call_id": .string(call.id), "content": .string(result)]
            pendingCalls.removeFirst()
            if pendingCalls.isEmpty {
                reply(to: message, printer: printer)
            } else {
                messages.append(message)
                printer.notice("\(pendingCalls.count) more tool result(s) to give, next for \(pendingCalls[0].name)")
            }
        }
        return true
    }

    /// Back to the system message alone.
    func reset() {
        messages = settings.system.map { [["role": "system", "content": .string($0)]] } ?? []
        pendingCalls = []
    }

    /// Adds `message` and generates the assistant's answer; on failure the history is left as
    /// it was before.
    private func reply(to message: JSONValue, printer: ChatPrinter) {
        let saved = (messages, pendingCalls)
        messages.append(message)
        do {
            let (answer, calls) = try generateTurn(printer: printer)
            messages.append(answer)
            pendingCalls = calls
        } catch {
            (messages, pendingCalls) = saved
            printer.notice("error: \(error)")
        }
    }

    /// The prompt for the next assistant turn.
    func renderPrompt() throws -> String {
        let extra: [String: JSONValue] = settings.thinking ? [:] : ["enable_thinking": false]
        return try template.render(messages: messages, tools: settings.tools.isEmpty ? nil : settings.tools,
                                   addGenerationPrompt: true, extra: extra)
    }

    /// Generates the assistant's turn, printing it as it streams, and returns it as an OpenAI
    /// message together with its calls of declared tools.
    private func generateTurn(printer: ChatPrinter) throws -> (JSONValue, [ToolCall]) {
        let prompt = try renderPrompt()
        let ids = tokenizer.encode(prompt)
        let room = model.config.maxPositionEmbeddings - ids.count
        guard room > 0 else {
            throw ChatError("the conversation (\(ids.count) tokens) fills the model's context of "
                            + "\(model.config.maxPositionEmbeddings) tokens; /reset starts a new one")
        }
        let parser = Glm45OutputStreamParser(tools: toolSpecs, parseToolCalls: !toolSpecs.isEmpty, parseReasoning: true,
                                             promptEndsInThink: Glm45ReasoningStreamParser.promptEndsInsideThink(prompt))
        var detokenizer = tokenizer.makeStreamingDetokenizer(skipSpecialTokens: true)
        var reasoning = "", content = ""
        func show(_ delta: Glm45Delta) {
            reasoning += delta.reasoningContent
            content += delta.content
            printer.reasoning(delta.reasoningContent)
            printer.content(delta.content)
        }
        let result = try generator.generate(prompt: ids, maxTokens: min(settings.maxTokens, room),
                                            sampling: settings.sampling, stopTokens: stopTokens) { id in
            show(parser.feed(detokenizer.append(id)))
            return true
        }
        show(parser.feed(detokenizer.flush()))
        show(parser.finish())

        // As the server does, calls of functions the tools do not declare are dropped.
        var calls: [ToolCall] = []
        for call in parser.toolCalls {
            if toolNames.contains(call.name) {
                calls.append(call)
                printer.toolCall(name: call.name, arguments: call.arguments)
            } else {
                printer.notice("ignored a call of \(call.name), which --tools does not declare")
            }
        }
        if result.finish == .length { printer.notice("stopped after \(result.tokens.count) tokens (--max-tokens)") }
        printer.endLine()

        var message: JSONObject = ["role": "assistant", "content": content.isEmpty && !calls.isEmpty ? .null : .string(content)]
        if !reasoning.isEmpty { message["reasoning_content"] = .string(reasoning) }
        if !calls.isEmpty {
            message["tool_calls"] = .array(calls.map { call in
                ["id": .string(call.id), "type": "function",
                 "function": ["name": .string(call.name), "arguments": .string(call.arguments)]]
            })
        }
        return (.object(message), calls)
    }
}

struct ChatError: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
