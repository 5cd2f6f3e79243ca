import ArgumentParser
import DemoModel
import Foundation
import OrderedJSON
import Sampling
import Templates

#if canImport(Glibc)
import Glibc
#endif

/// `glm chat`: a conversation in the terminal, over the engine `glm generate` uses and the
/// prompt building and output parsing of `glm serve` (see `ChatSession`).
///
///     glm chat [--model-path DIR] [--system TEXT] [--no-thinking] [--tools FILE.json]
///              [--max-tokens N] [--temperature T] [--seed S] [--speculative-algorithm EAGLE]
///
/// Reads one message per line from standard input, from a terminal or a pipe, until `/exit` or
/// the end of input; piped lines are echoed after `> `, so the output reads as a transcript.
struct ChatCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "chat",
        abstract: "Chat with a model in the terminal (or over a pipe).",
        discussion: """
        In-chat commands: /think on|off, /tool {json} (the result of the oldest pending tool call), /reset, \
        /exit, /help. Reasoning is shown dimmed on a terminal and after "[thinking] " otherwise; tool calls \
        are printed as "tool call: NAME {json arguments}".
        """
    )

    @OptionGroup var model: ModelOptions
    @OptionGroup var sampling: SamplingOptions
    @OptionGroup var speculative: SpeculativeOptions

    @Option(help: "A system message before the conversation.")
    var system: String?

    @Flag(name: .customLong("no-thinking"), help: "Start with thinking off (chat_template_kwargs enable_thinking=false).")
    var noThinking = false

    @Option(help: "JSON file holding an OpenAI tools array the model may call.")
    var tools: String?

    @Option(name: .customLong("max-tokens"), help: "Most tokens per answer (capped by the model's context).")
    var maxTokens = 4096

    func validate() throws {
        guard maxTokens > 0 else { throw ValidationError("--max-tokens must be positive, got \(maxTokens)") }
    }

    func run() throws {
        let toolList = try tools.map(Self.readTools) ?? []
        let directory = try model.directory()
        let glm = try model.loadModel(from: directory)
        var settings = ChatSession.Settings()
        settings.system = system
        settings.thinking = !noThinking
        settings.tools = toolList
        settings.maxTokens = maxTokens
        for note in speculative.notes { printError("note: \(note)") }
        settings.speculativeDraftTokens = SpeculativeOptions.drafts(try speculative.draftTokens, for: glm) { printError($0) }
        // Without --seed every answer draws a fresh seed.
        settings.sampling = SamplingParameters(temperature: sampling.temperature, topK: sampling.topK, topP: sampling.topP,
                                               minP: sampling.minP, seed: sampling.seed)
        let session = try ChatSession(model: glm, directory: directory, settings: settings)

        let interactive = isatty(0) != 0
        let environment = ProcessInfo.processInfo.environment
        let styled = isatty(1) != 0 && environment["NO_COLOR"] == nil && environment["TERM"] != "dumb"
        let printer = ChatPrinter(style: styled ? .terminal : .plain) { FileHandle.standardOutput.write(Data($0.utf8)) }
        if interactive {
            let name = model.modelPath == nil ? DemoModel.name : directory.lastPathComponent
            let tools = toolList.isEmpty ? "" : " and \(toolList.count) tool(s); answer a tool call with /tool {json result}"
            printer.notice("Chatting with \(name)\(tools). /help lists the commands; /exit or Ctrl-D quits.")
        }
        session.run(readLine: { Swift.readLine() }, printer: printer, echo: !interactive)
    }

    /// The tools array of `path`, each entry checked for a function name.
    static func readTools(_ path: String) throws -> [JSONValue] {
        guard case .array(let list) = try readJSONFile(path, option: "--tools") else {
            throw ValidationError("--tools must hold a JSON array (OpenAI's tools format)")
        }
        for (i, tool) in list.enumerated() {
            guard tool["function"]?["name"]?.stringValue != nil else {
                throw ValidationError("--tools: entry \(i) has no function.name; expected {\"type\": \"function\", \"function\": {\"name\": …}}")
            }
        }
        return list
    }
}
