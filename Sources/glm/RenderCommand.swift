import ArgumentParser
import DemoModel
import Foundation
import OrderedJSON
import Server
import Templates

/// `glm render`: prints the prompt the server would build for a chat request, and nothing else
/// (no trailing newline), so it can be diffed against HF `apply_chat_template` output.
///
///     glm render [--model-path DIR] --messages FILE.json [--tools FILE.json]
///                [--no-generation-prompt | --continue-final-message] [--kwargs '{"enable_thinking":false}']
///
/// FILE.json holds the OpenAI-format messages exactly as `/v1/chat/completions` receives them:
/// a JSON array of messages, or an object with "messages" and optional "tools".
struct RenderCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "render",
        abstract: "Render a chat prompt with the model's chat template, as the server does."
    )

    @Option(name: .customLong("model-path"),
            help: "Model folder (chat_template.jinja, or chat_template in tokenizer_config.json), or a GGUF model (tokenizer.chat_template); default: the embedded \(DemoModel.name) model.")
    var modelPath: String?

    @Option(help: "JSON file: an array of messages, or an object with \"messages\" and optional \"tools\".")
    var messages: String

    @Option(help: "JSON file holding an OpenAI tools array (replaces any \"tools\" in --messages).")
    var tools: String?

    @Flag(name: .customLong("no-generation-prompt"), help: "Do not append the assistant generation prompt.")
    var noGenerationPrompt = false

    @Flag(name: .customLong("continue-final-message"),
          help: "Leave the final message open for the model to continue (assistant prefill), as transformers does.")
    var continueFinalMessage = false

    @Option(help: "chat_template_kwargs as a JSON object, e.g. '{\"enable_thinking\":false}'.")
    var kwargs: String?

    @Option(name: .customLong("chat-template"), help: "Template file to use instead of the model's.")
    var chatTemplate: String?

    func run() throws {
        let template = try ModelAssets.chatTemplate(at: try modelDirectory(modelPath),
                                                    overrideFile: chatTemplate.map { URL(fileURLWithPath: $0) })
        let conversation = try ChatInput.parseConversation(try readJSONFile(messages, option: "--messages"))
        var toolList = conversation.tools
        if let tools {
            guard case .array(let list) = try readJSONFile(tools, option: "--tools") else {
                throw ValidationError("--tools must hold a JSON array")
            }
            toolList = list
        }
        var extra: [String: JSONValue] = [:]
        if let kwargs {
            let parsed: JSONValue
            do { parsed = try JSONValue.parse(kwargs) } catch { throw ValidationError("--kwargs is not valid JSON: \(error)") }
            guard case .object(let object) = parsed else { throw ValidationError("--kwargs must be a JSON object") }
            for (key, value) in object.entries { extra[key] = value }
        }
        let prompt = try template.render(messages: conversation.messages, tools: toolList,
                                         addGenerationPrompt: !noGenerationPrompt && !continueFinalMessage,
                                         continueFinalMessage: continueFinalMessage, extra: extra)
        FileHandle.standardOutput.write(Data(prompt.utf8))
    }
}
